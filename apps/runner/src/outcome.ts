import fs from 'node:fs';
import path from 'node:path';
import { AgentThreadId, CheckResults, EgressRecord, ErrorCode, TokenUsage, z } from '@cwo/contracts';

// How a job ended, as the runner determined it: what is written to Postgres in one transaction.
// When that write fails (Postgres down) it is recorded on disk, so that the retry writes the same
// outcome instead of running the agent a second time (which would, e.g., append an edit twice).
// The record lives under WORKSPACE_ROOT/.runner/, outside every project's workspace, where no
// agent can forge one; it is removed once Postgres has it.

const RecordedOutcome = z.object({
  /** The attempt (jobs.attempts) that produced it. */
  attempt: z.number().int().min(1),
  status: z.enum(['completed', 'error', 'cancelled']),
  summary: z.string().nullable(),
  errors: z.array(z.string()),
  created_files: z.array(z.string()),
  modified_files: z.array(z.string()),
  deleted_files: z.array(z.string()),
  /** Workspace-relative path of the job's copy of result.json, when the agent wrote a valid one. */
  result_path: z.string().nullable(),
  /** Tokens the agent reported for this job. (Defaults: records written before these fields.) */
  usage: TokenUsage.nullable().default(null),
  /** The agent conversation the job ran in, for the project's next job. */
  thread_id: AgentThreadId.nullable().default(null),
  /** The job's commit in the project history. */
  commit_sha: z.string().nullable().default(null),
  /** The connections the agent attempted, when it ran behind the egress proxy. */
  egress: EgressRecord.nullable().default(null),
  /**
   * Why it did not complete (docs/outcomes.md); null when it completed. A record without one (an
   * older runner's) or with a code this runner does not know (a newer one's) gets the code its
   * status implies below, rather than reading as no record at all, which would run the job again.
   */
  error_code: ErrorCode.nullable().catch(null),
  /** What the job's checks found, every round (null: it had none, or they did not run). */
  checks: CheckResults.nullable().default(null),
});

export const JobOutcome = RecordedOutcome.transform((o) => ({
  ...o,
  error_code:
    o.status === 'completed' ? null : (o.error_code ?? (o.status === 'cancelled' ? 'cancelled' : 'agent_error')),
}));
export type JobOutcome = z.infer<typeof JobOutcome>;

/** The outcome of a job the agent left nothing of: no files, no result.json, no usage, thread or commit. */
export function outcomeWithoutRun(
  status: JobOutcome['status'],
  summary: string | null,
  errors: string[],
  errorCode: ErrorCode | null,
): Omit<JobOutcome, 'attempt'> {
  return {
    status,
    summary,
    errors,
    error_code: errorCode,
    created_files: [],
    modified_files: [],
    deleted_files: [],
    result_path: null,
    usage: null,
    thread_id: null,
    commit_sha: null,
    egress: null,
    checks: null,
  };
}

/** Where an outcome waiting for Postgres is kept. */
export const outcomeFile = (workspaceRoot: string, jobId: string) =>
  path.join(workspaceRoot, '.runner', 'outcomes', `${jobId}.json`);

export function recordOutcome(workspaceRoot: string, jobId: string, outcome: JobOutcome): void {
  const file = outcomeFile(workspaceRoot, jobId);
  const data = `${JSON.stringify(outcome)}\n`;
  // Written in place, without a temporary file and a rename: a write torn by a crash is one JSON
  // object cut short, which never parses, so it reads as "no outcome recorded" and the job runs
  // again, as if the crash had come just before. A readable record is never overwritten (an attempt that finds one uses it).
  // The directory is made only when missing (once per WORKSPACE_ROOT). Synchronous: a small
  // file, see safe-fs.ts.
  try {
    fs.writeFileSync(file, data);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  }
}

/** The outcome an earlier attempt recorded but could not write to Postgres, if any. */
export function readRecordedOutcome(workspaceRoot: string, jobId: string): JobOutcome | null {
  const file = outcomeFile(workspaceRoot, jobId);
  // Usually there is none: asked without the cost of an exception.
  if (!fs.statSync(file, { throwIfNoEntry: false })) return null;
  try {
    const parsed = JobOutcome.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function clearRecordedOutcome(workspaceRoot: string, jobId: string): void {
  fs.rmSync(outcomeFile(workspaceRoot, jobId), { force: true });
}
