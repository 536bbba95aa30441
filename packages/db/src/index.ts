export { createDb, pingDb, sqlPool, type Db } from './client';
export { applyMigrations, REPO_ROOT } from './migrate';
export { poolConfigFromUrl } from './pg-adapter';
export { Prisma } from '../generated/client';
export type { Project, Job, Status as DbStatus, JobType as DbJobType } from '../generated/client';
