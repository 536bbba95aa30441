export { createDb, pingDb, sqlPool, type Db } from './client';
export {
  applyMigrations,
  describeSchemaState,
  ensureSchema,
  knownMigrations,
  pendingMigrations,
  REPO_ROOT,
  type SchemaState,
} from './migrate';
export { poolConfigFromUrl } from './pg-adapter';
export { Prisma } from '../generated/client';
export type { Project, Job, Status as DbStatus, JobType as DbJobType } from '../generated/client';
