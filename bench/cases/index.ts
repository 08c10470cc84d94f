/**
 * Every benchmark case, in report order. A new case is one file in this folder
 * exporting a `BenchCase`, added to this list.
 */
import type { BenchCase } from '../lib/types.js';
import { clientCredentials } from './client-credentials.js';
import { introspection } from './introspection.js';

export const CASES: readonly BenchCase[] = [clientCredentials, introspection];
