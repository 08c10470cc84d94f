import { core } from './0001_core.js';
import { access } from './0002_access.js';
import { auditCheckpoints } from './0003_audit_checkpoints.js';
import { alerts } from './0004_alerts.js';
import { users } from './0005_users.js';
import { refreshDevice } from './0007_refresh_device.js';
import { usage } from './0008_usage.js';
import { login } from './0006_login.js';
import { principalIndexes } from './0009_principal_indexes.js';
import type { MigrationSet } from './migration.js';

/** Every migration jitgate ships, by name. Append new ones; never rename or edit an applied one. */
export const migrations: MigrationSet = {
  '0001_core': core,
  '0002_access': access,
  '0003_audit_checkpoints': auditCheckpoints,
  '0004_alerts': alerts,
  '0005_users': users,
  '0006_login': login,
  '0007_refresh_device': refreshDevice,
  '0008_usage': usage,
  '0009_principal_indexes': principalIndexes,
};
