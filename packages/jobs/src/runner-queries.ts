import { CheckList, type CheckSpec, type JobHistoryEntry, type JobType, type Status, type z } from '@cwo/contracts';
import type { Db } from '@cwo/db';
import { query } from './sql';

// What the runner, its reconciler, cancel watcher and orphan reaper read. The reads on a job's
// path are single statements on the pg pool (see sql.ts); the periodic ones stay on Prisma.

/** What the runner needs of a job to run it. */
export interface RunnableJob {
  id: string;
  projectId: string;
  /** jobs.seq (a bigint), as text. */
  seq: string;
  jobType: JobType;
  instruction: string;
  status: Status;
  cancelRequestedAt: Date | null;
  /** A revert: the job it undoes, and that job's commit (null when it has none). */
  reverts: { jobId: string; commit: string | null } | null;
  /** The oldest unfinished job of the project created before this one, if any, when it was loaded. */
  olderUnfinishedId: string | null;
  /** Its checks (fixed when it was created) and fix attempts (docs/checks.md). */
  checks: CheckSpec[];
  fixAttempts: number;
  /**
   * What it starts from (jobContext and recordedWorkspaceOf), read in the same statement when no
   * earlier job was unfinished; null otherwise. Earlier jobs that are finished never change again,
   * so this is what those two would read once the job has started, without their round trips.
   */
  startContext: StartContext | null;
}

export interface StartContext {
  history: Array<z.infer<typeof JobHistoryEntry>>;
  threadId: string | undefined;
  recorded: RecordedWorkspace;
}

const HISTORY_LIMIT = 50;
const RECORDED_LOOKBACK = 100;

/** In loadJob's statement: the job may start now (its context is read with it). */
const STARTS = `o.older IS NULL AND j.status IN ('queued', 'in_progress') AND j.cancel_requested_at IS NULL`;

// The reads of a job's context, shared by loadJob (where they are subqueries) and the functions
// below; the project and seq are SQL expressions.
const HISTORY_SQL = (project: string, seq: string) =>
  `SELECT id, job_type, instruction, status, summary, seq FROM jobs
    WHERE project_id = ${project} AND seq < ${seq} ORDER BY seq DESC LIMIT ${HISTORY_LIMIT}`;
const THREAD_SQL = (project: string, seq: string) =>
  `SELECT thread_id FROM jobs WHERE project_id = ${project} AND seq < ${seq} AND thread_id IS NOT NULL
    ORDER BY seq DESC LIMIT 1`;
const RECORDED_SQL = (project: string, seq: string) =>
  `SELECT id, status, commit_sha, seq,
          cardinality(created_files) + cardinality(modified_files) + cardinality(deleted_files) > 0 AS changed
     FROM jobs
    WHERE project_id = ${project} AND seq < ${seq} AND status IN ('completed', 'error', 'cancelled')
    ORDER BY seq DESC LIMIT ${RECORDED_LOOKBACK}`;

interface HistoryRow {
  id: string;
  job_type: JobType;
  instruction: string;
  status: Status;
  summary: string | null;
}

interface RecordedRow {
  id: string;
  status: Status;
  commit_sha: string | null;
  changed: boolean;
}

/** The history rows, oldest first, as request.json has them. */
const historyOf = (rows: HistoryRow[]): Array<z.infer<typeof JobHistoryEntry>> =>
  rows.map((r) => ({
    job_id: r.id,
    job_type: r.job_type,
    instruction: r.instruction,
    status: r.status,
    summary: r.summary,
  }));

/** The recorded workspace from the finished earlier jobs, newest first (see recordedWorkspaceOf). */
function recordedFrom(rows: RecordedRow[]): RecordedWorkspace | 'import' {
  for (const r of rows) {
    if (r.commit_sha) return { kind: 'commit', sha: r.commit_sha, jobId: r.id };
    if (r.status !== 'error' && r.changed) return { kind: 'unknown', jobId: r.id };
  }
  if (rows.length >= RECORDED_LOOKBACK) return { kind: 'unknown', jobId: rows.at(-1)!.id };
  // Nothing before it left a commit: the project's imported source, if it has one.
  return 'import';
}

function recordedOf(rows: RecordedRow[], importCommit: string | null): RecordedWorkspace {
  const recorded = recordedFrom(rows);
  if (recorded !== 'import') return recorded;
  return importCommit ? { kind: 'commit', sha: importCommit, jobId: null } : { kind: 'empty' };
}

/**
 * The job, with the oldest unfinished earlier job of its project and, when there is none, what the
 * job starts from (one statement: a job's reads on its way to start are one round trip). Checking
 * the order here rather than after the project lock is as safe: a job only ever finishes, and no
 * job can get an earlier seq later, so "no older unfinished job" stays true once it is true.
 */
export async function loadJob(db: Db, jobId: string): Promise<RunnableJob | null> {
  const rows = await query<{
    id: string;
    project_id: string;
    seq: string;
    job_type: RunnableJob['jobType'];
    instruction: string;
    status: Status;
    cancel_requested_at: Date | null;
    older: string | null;
    checks: unknown;
    fix_attempts: number;
    reverts_job_id: string | null;
    reverts_commit: string | null;
    history: HistoryRow[] | null;
    thread: string | null;
    recorded: RecordedRow[] | null;
    import_commit: string | null;
  }>(
    db,
    // The context's subqueries run only when the job may start (CASE evaluates its branch lazily).
    `SELECT j.id, j.project_id, j.seq::text AS seq, j.job_type, j.instruction, j.status, j.cancel_requested_at,
            j.checks, j.fix_attempts, j.reverts_job_id, o.older,
            (SELECT t.commit_sha FROM jobs t WHERE t.id = j.reverts_job_id) AS reverts_commit,
            CASE WHEN ${STARTS} THEN (SELECT json_agg(h ORDER BY h.seq ASC) FROM (${HISTORY_SQL('j.project_id', 'j.seq')}) h) END AS history,
            CASE WHEN ${STARTS} THEN (${THREAD_SQL('j.project_id', 'j.seq')}) END AS thread,
            CASE WHEN ${STARTS} THEN (SELECT json_agg(r ORDER BY r.seq DESC) FROM (${RECORDED_SQL('j.project_id', 'j.seq')}) r) END AS recorded,
            CASE WHEN ${STARTS} THEN (SELECT import_commit FROM projects WHERE id = j.project_id) END AS import_commit
       FROM jobs j
      CROSS JOIN LATERAL (
            SELECT (SELECT o.id FROM jobs o
                     WHERE o.project_id = j.project_id AND o.seq < j.seq AND o.status IN ('queued', 'in_progress')
                     ORDER BY o.seq ASC LIMIT 1) AS older
           ) o
      WHERE j.id = $1::uuid`,
    [jobId],
  );
  const r = rows[0];
  if (!r) return null;
  const startsNow = r.older === null && (r.status === 'queued' || r.status === 'in_progress') && !r.cancel_requested_at;
  return {
    id: r.id,
    projectId: r.project_id,
    seq: r.seq,
    jobType: r.job_type,
    instruction: r.instruction,
    status: r.status,
    cancelRequestedAt: r.cancel_requested_at,
    reverts: r.reverts_job_id ? { jobId: r.reverts_job_id, commit: r.reverts_commit } : null,
    olderUnfinishedId: r.older,
    // Written through the API's schema; a row it cannot read runs no checks rather than none at all.
    checks: CheckList.catch([]).parse(r.checks),
    fixAttempts: r.fix_attempts,
    startContext: startsNow
      ? {
          history: historyOf(r.history ?? []),
          threadId: r.thread ?? undefined,
          recorded: recordedOf(r.recorded ?? [], r.import_commit),
        }
      : null,
  };
}

/**
 * What request.json says of the project's past, in one statement: the earlier jobs, oldest first,
 * and the agent conversation of the latest earlier job that had one (so that this job can continue
 * it; a failed or cancelled job may have none).
 */
export async function jobContext(
  db: Db,
  job: { projectId: string; seq: string | bigint },
): Promise<{ history: Array<z.infer<typeof JobHistoryEntry>>; threadId: string | undefined }> {
  const rows = await query<{ history: HistoryRow[] | null; thread: string | null }>(
    db,
    `SELECT (SELECT json_agg(h ORDER BY h.seq ASC) FROM (${HISTORY_SQL('$1::uuid', '$2::bigint')}) h) AS history,
            (${THREAD_SQL('$1::uuid', '$2::bigint')}) AS thread`,
    [job.projectId, String(job.seq)],
  );
  return { history: historyOf(rows[0]?.history ?? []), threadId: rows[0]?.thread ?? undefined };
}

/**
 * What the project's workspace should hold when `job` starts, by its earlier jobs: the commit of
 * the latest one that has one. The jobs after that commit must have changed nothing, or ended in
 * error (an error without a commit keeps no changes: an infrastructure failure, the disk full, a
 * runner that lost the job). A completed or cancelled job that changed files but has no commit
 * (its commit failed, or it ran before the history existed) leaves the state `unknown`: the
 * history does not hold it, and nothing may be restored from it. `empty`: nothing ran before.
 */
/** `commit` with jobId null: the project's "import" commit (its source, before any job). */
export type RecordedWorkspace =
  { kind: 'commit'; sha: string; jobId: string | null } | { kind: 'empty' } | { kind: 'unknown'; jobId: string };

export async function recordedWorkspaceOf(
  db: Db,
  job: { projectId: string; seq: string | bigint },
): Promise<RecordedWorkspace> {
  const rows = await query<RecordedRow>(db, RECORDED_SQL('$1::uuid', '$2::bigint'), [job.projectId, String(job.seq)]);
  const recorded = recordedFrom(rows);
  if (recorded !== 'import') return recorded;
  const imported = await query<{ import_commit: string | null }>(
    db,
    'SELECT import_commit FROM projects WHERE id = $1::uuid',
    [job.projectId],
  );
  return recordedOf([], imported[0]?.import_commit ?? null);
}

/** What the runner needs to bring a project's source in: the source (as stored) and whether it is in. */
export async function projectImport(
  db: Db,
  projectId: string,
): Promise<{ source: unknown; importCommit: string | null } | null> {
  const rows = await query<{ source: unknown; import_commit: string | null }>(
    db,
    'SELECT source, import_commit FROM projects WHERE id = $1::uuid',
    [projectId],
  );
  const r = rows[0];
  return r ? { source: r.source, importCommit: r.import_commit } : null;
}

/** Records the history's "import" commit: later attempts and jobs start from it. */
export async function recordImportCommit(db: Db, projectId: string, sha: string): Promise<void> {
  await query(db, 'UPDATE projects SET import_commit = $2 WHERE id = $1::uuid', [projectId, sha]);
}

/** The project's oldest queued job, if any (to wake it when the one before it finishes). */
export async function nextQueuedJobId(db: Db, projectId: string): Promise<string | null> {
  const rows = await query<{ id: string }>(
    db,
    `SELECT id FROM jobs WHERE project_id = $1::uuid AND status = 'queued' ORDER BY seq ASC LIMIT 1`,
    [projectId],
  );
  return rows[0]?.id ?? null;
}

export interface UnfinishedJob {
  id: string;
  projectId: string;
  status: 'queued' | 'in_progress';
  attempts: number;
}

/**
 * Jobs in `status` untouched since `before` (queued ones by creation, running ones by their last
 * update), oldest first: what the reconciler compares with the queue.
 */
export async function jobsUntouchedSince(
  db: Db,
  status: UnfinishedJob['status'],
  before: Date,
  limit: number,
): Promise<UnfinishedJob[]> {
  const since = status === 'queued' ? { createdAt: { lt: before } } : { updatedAt: { lt: before } };
  const rows = await db.job.findMany({
    where: { status, ...since },
    orderBy: { seq: 'asc' },
    take: limit,
    select: { id: true, projectId: true, attempts: true },
  });
  return rows.map((r) => ({ ...r, status }));
}

/** Of `jobIds`, those whose cancel was requested, or that are gone (their project deleted). */
export async function jobsToStop(db: Db, jobIds: string[]): Promise<string[]> {
  if (!jobIds.length) return [];
  const rows = await db.job.findMany({ where: { id: { in: jobIds } }, select: { id: true, cancelRequestedAt: true } });
  const present = new Map(rows.map((r) => [r.id, r.cancelRequestedAt]));
  return jobIds.filter((id) => !present.has(id) || present.get(id) !== null);
}

/** The statuses of the jobs that exist among `jobIds`. */
export async function jobStatuses(db: Db, jobIds: string[]): Promise<Map<string, Status>> {
  if (!jobIds.length) return new Map();
  const rows = await db.job.findMany({ where: { id: { in: jobIds } }, select: { id: true, status: true } });
  return new Map(rows.map((r) => [r.id, r.status]));
}
