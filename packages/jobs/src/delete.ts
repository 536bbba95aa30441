import { sqlTransaction, type Db, type Job } from '@cwo/db';
import { recordProjectDeleted } from './events';
import { isUuid } from './ids';

export type DeleteProjectResult =
  /** `stopped`: the jobs that were unfinished, as they were; the caller stops them (queue, runners). */
  { kind: 'deleted'; stopped: Array<Pick<Job, 'id' | 'status'>> } | { kind: 'not_found' };

/**
 * delete project: the project and its jobs are deleted. Its unfinished jobs are locked first
 * (jobs before the project, the order every other transition takes its locks in), so the
 * statuses returned are final: a runner that started one meanwhile has committed, and any later
 * write of a runner to the deleted rows matches nothing. The deletion records `project.deleted`
 * for webhooks (events.ts), with those jobs, in the same statement.
 */
export async function deleteProject(db: Db, ownerId: string, projectId: string): Promise<DeleteProjectResult> {
  if (!isUuid(projectId)) return { kind: 'not_found' };
  return sqlTransaction(db, async (client) => {
    const unfinished = await client.query<{ id: string; status: Job['status'] }>(
      `SELECT jobs.id, jobs.status FROM jobs JOIN projects ON projects.id = jobs.project_id
        WHERE jobs.project_id = $1::uuid AND projects.owner_id = $2::uuid AND jobs.status IN ('queued', 'in_progress')
        ORDER BY jobs.seq
          FOR UPDATE OF jobs`,
      [projectId, ownerId],
    );
    const stopped = JSON.stringify(unfinished.rows.map((j) => ({ id: j.id, status: j.status })));
    const deleted = await client.query(
      `WITH gone AS (DELETE FROM projects WHERE id = $1::uuid AND owner_id = $2::uuid RETURNING *)
       SELECT ${recordProjectDeleted('gone', '$3::jsonb')} FROM gone`,
      [projectId, ownerId, stopped],
    );
    if (deleted.rowCount !== 1) return { kind: 'not_found' };
    return { kind: 'deleted', stopped: unfinished.rows };
  });
}
