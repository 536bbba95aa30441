import { z } from './zod';
import { CheckList, CheckResults, FixAttempts } from './checks';
import { ProjectSource } from './code-io';
import { EgressRecord } from './egress';
import { JobType, Status } from './enums';
import { ErrorCode, QueuePosition } from './outcomes';

const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-11-25T16:00:00.000Z' });

export const TokenUsage = z
  .object({
    input_tokens: z.number().int().nonnegative(),
    cached_input_tokens: z.number().int().nonnegative().default(0),
    output_tokens: z.number().int().nonnegative(),
  })
  .openapi('TokenUsage');
export type TokenUsage = z.infer<typeof TokenUsage>;

export const JobSummary = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    job_type: JobType,
    instruction: z.string(),
    status: Status,
    attempts: z.number().int(),
    created_at: Timestamp,
    updated_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
    /** Why the finished job did not complete (docs/outcomes.md); null while it runs and when it completed. */
    // A union rather than .nullable(), as for `usage` below.
    error_code: z.union([ErrorCode, z.null()]),
    /** A revert job: the job whose changes it undoes (POST …/jobs/{jobId}/revert); null for other jobs. */
    reverts_job_id: z.uuid().nullable(),
  })
  .openapi('JobSummary');
export type JobSummary = z.infer<typeof JobSummary>;

export const JobDetail = JobSummary.extend({
  summary: z.string().nullable(),
  created_files: z.array(z.string()),
  modified_files: z.array(z.string()),
  deleted_files: z.array(z.string()),
  errors: z.array(z.string()),
  result_path: z.string().nullable(),
  logs_path: z.string().nullable(),
  /** Wall-clock seconds from start to finish, null until the job has finished. */
  duration_seconds: z.number().nullable(),
  /** Tokens the agent used in this job; null when it reported none (the dummy agent, a job that never ran). */
  // A union rather than .nullable(): the OpenAPI 3.0 generator would mark the shared TokenUsage
  // component itself nullable.
  usage: z.union([TokenUsage, z.null()]),
  /** The job's commit in the project's history (its diff: GET …/jobs/{jobId}/diff); null until the job has ended. */
  commit: z
    .string()
    .regex(/^[0-9a-f]{40,64}$/)
    .nullable()
    .openapi({ example: '3f786850e387550fdab836ed7e6dc881de23001b' }),
  /**
   * Every connection the agent attempted, allowed or denied, with bytes and durations, when it ran
   * behind the egress proxy (WORKER_EGRESS=allowlist); null otherwise.
   */
  egress: z.union([EgressRecord, z.null()]),
  /** The commands that decide whether the job counts as completed (its own, or its project's defaults). */
  checks: CheckList,
  /** How many rounds of fixing the agent gets when checks fail. */
  fix_attempts: FixAttempts,
  /** What the checks found, round by round (docs/checks.md); null when the job had none or they did not run. */
  check_results: z.union([CheckResults, z.null()]),
  /** While the job is queued: how many jobs must finish before it can start (docs/outcomes.md); else null. */
  queue_position: z.union([QueuePosition, z.null()]),
}).openapi('JobDetail');
export type JobDetail = z.infer<typeof JobDetail>;

export const ProjectSummary = z
  .object({
    id: z.uuid(),
    instruction: z.string(),
    status: Status,
    summary: z.string().nullable(),
    workspace_path: z.string(),
    /** The checks and fix attempts its jobs get unless they name their own. */
    checks: CheckList,
    fix_attempts: FixAttempts,
    /** Where the code came from (docs/code-io.md); null for a project that started empty. */
    source: ProjectSource.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('ProjectSummary');
export type ProjectSummary = z.infer<typeof ProjectSummary>;

/** The answer to POST /projects: the project and the initial job it queued. */
export const ProjectCreated = ProjectSummary.extend({ job: JobSummary }).openapi('ProjectCreated');
export type ProjectCreated = z.infer<typeof ProjectCreated>;

export const ProjectDetail = ProjectSummary.extend({
  jobs: z.array(JobSummary),
  /** Where the project's preview opens (GET /projects/{id}/preview for its state; docs/previews.md). */
  preview_url: z.string(),
}).openapi('ProjectDetail');
export type ProjectDetail = z.infer<typeof ProjectDetail>;

export const ProjectList = z
  .object({
    items: z.array(ProjectSummary),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  })
  .openapi('ProjectList');
export type ProjectList = z.infer<typeof ProjectList>;

export const JobList = z.object({ items: z.array(JobSummary) }).openapi('JobList');
export type JobList = z.infer<typeof JobList>;

export const FileEntry = z.object({ path: z.string(), size: z.number().int() }).openapi('FileEntry');
export const FileList = z.object({ files: z.array(FileEntry) }).openapi('FileList');
export type FileList = z.infer<typeof FileList>;

export const FileContent = z.object({ path: z.string(), contents: z.string() }).openapi('FileContent');
export type FileContent = z.infer<typeof FileContent>;

export const Health = z.object({ status: z.literal('ok') }).openapi('Health');
export const Readiness = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.object({ postgres: z.enum(['ok', 'down']), redis: z.enum(['ok', 'down']) }),
  })
  .openapi('Readiness');
export type Readiness = z.infer<typeof Readiness>;
