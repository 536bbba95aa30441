export { createDb, pingDb, sqlPool, sqlTransaction, type Db, type DbOptions } from './client';
export {
  applyMigrations,
  describeSchemaState,
  ensureSchema,
  knownMigrations,
  pendingMigrations,
  REPO_ROOT,
  type SchemaState,
} from './migrate';
export { isDatabaseUnavailable } from './unavailable';
export { poolConfigFromUrl } from './pg-adapter';
export { Prisma } from '../generated/client';
export type { Project, Job, Status as DbStatus, JobType as DbJobType } from '../generated/client';
