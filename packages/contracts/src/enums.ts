import { z } from './zod';

export const STATUSES = ['queued', 'in_progress', 'completed', 'error', 'cancelled'] as const;
export const Status = z.enum(STATUSES).openapi('Status');
export type Status = z.infer<typeof Status>;

/** Statuses after which a job never changes again. */
export const FINISHED_STATUSES: readonly Status[] = ['completed', 'error', 'cancelled'];
export const isFinished = (s: Status): boolean => FINISHED_STATUSES.includes(s);

/** `revert`: undoes an earlier job's changes (POST …/jobs/{jobId}/revert; the agent does not run). */
export const JOB_TYPES = ['initial_project', 'edit', 'revert'] as const;
export const JobType = z.enum(JOB_TYPES).openapi('JobType');
export type JobType = z.infer<typeof JobType>;

/** The job types POST …/jobs creates; a revert is made by its own endpoint, which names the job it undoes. */
export const CreatableJobType = z.enum(['initial_project', 'edit']).openapi('CreatableJobType');
