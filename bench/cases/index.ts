/**
 * Every benchmark case, in report order. A new case is one file in this folder
 * exporting a `BenchCase`, added to this list.
 */
import type { BenchCase } from '../lib/types.js';
import { clientCredentials } from './client-credentials.js';
import { introspection } from './introspection.js';
import { jitCycle } from './jit-cycle.js';
import { policyDecision } from './policy-decision.js';
import { tokenExchangeBaseline } from './token-exchange-baseline.js';
import { tokenExchangeElevated } from './token-exchange-elevated.js';
import { auditAppend } from './audit-append.js';
import { auditVerify } from './audit-verify.js';
import { auditExport } from './audit-export.js';
import { gateway } from './gateway.js';
import { revocationLatency } from './revocation-latency.js';
import { grantsRss } from './grants-rss.js';
import { scaling } from './scaling.js';
import { passwordLogin } from './password-login.js';

export const CASES: readonly BenchCase[] = [clientCredentials, introspection, tokenExchangeBaseline, tokenExchangeElevated, jitCycle, policyDecision, auditAppend, auditVerify, auditExport, gateway, revocationLatency, grantsRss, scaling, passwordLogin];
