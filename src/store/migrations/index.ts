import { core } from './0001_core.js';
import { access } from './0002_access.js';
import { auditCheckpoints } from './0003_audit_checkpoints.js';
import { alerts } from './0004_alerts.js';
import type { MigrationSet } from './migration.js';

/** Every migration jitgate ships, by name. Append new ones; never rename or edit an applied one. */
export const migrations: MigrationSet = {
  '0001_core': core,
  '0002_access': access,
  '0003_audit_checkpoints': auditCheckpoints,
  '0004_alerts': alerts,
};
