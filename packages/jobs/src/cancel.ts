import { sqlTransaction, type Db, type Job } from '@cwo/db';
import { isUuid } from './ids';
import { recordJobEvent } from './events';
import { refreshProjectStatus } from './project-status';
import { jobFromJson } from './rows';

export type CancelResult =
  /** cancel queued: queued -> cancelled at once. */
  | { kind: 'cancelled'; job: Job }
  /** request cancel: in_progress gets cancel_requested_at (the first request's time is kept); its runner ends it. */
  | { kind: 'cancelling'; job: Job }
  | { kind: 'already_finished'; job: Job }
  | { kind: 'not_found' };

/**
 * Cancels one of the owner's jobs: "cancel queued" or "request cancel", whichever its state
 * allows. The job's row is locked first, so a runner starting it at the same moment either
 * started it before (the cancel is a request the runner acts on) or finds it cancelled.
 */
export async function cancelJob(db: Db, ownerId: string, projectId: string, jobId: string): Promise<CancelResult> {
  if (!isUuid(projectId) || !isUuid(jobId)) return { kind: 'not_found' };
  return sqlTransaction(db, async (client) => {
    const { rows } = await client.query<{ status: Job['status'] }>(
      `SELECT jobs.status FROM jobs JOIN projects ON projects.id = jobs.project_id
        WHERE jobs.id = $1::uuid AND jobs.project_id = $2::uuid AND projects.owner_id = $3::uuid
          FOR UPDATE OF jobs`,
      [jobId, projectId, ownerId],
    );
    const status = rows[0]?.status;
    if (!status) return { kind: 'not_found' };
    const change =
      status === 'queued'
        ? `WITH c AS (
             UPDATE jobs SET status = 'cancelled', error_code = 'cancelled', finished_at = now(), updated_at = now()
              WHERE id = $1::uuid RETURNING *
           )
           SELECT row_to_json(c) AS job, ${refreshProjectStatus('c.project_id')}, ${recordJobEvent('c')} FROM c`
        : status === 'in_progress'
          ? `WITH c AS (
               UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now()
                WHERE id = $1::uuid RETURNING *
             )
             SELECT row_to_json(c) AS job FROM c`
          : `SELECT row_to_json(jobs) AS job FROM jobs WHERE id = $1::uuid`;
    const changed = await client.query<{ job: Record<string, unknown> }>(change, [jobId]);
    const job = jobFromJson(changed.rows[0]!.job);
    if (status === 'queued') return { kind: 'cancelled', job };
    if (status === 'in_progress') return { kind: 'cancelling', job };
    return { kind: 'already_finished', job };
  });
}
