#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx so a fresh clone needs only `npm install`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
