import { sqlTransaction, type Db, type Job } from '@cwo/db';
import { isUuid } from './ids';

export type DeleteProjectResult =
  /** `stopped`: the jobs that were unfinished, as they were; the caller stops them (queue, runners). */
  { kind: 'deleted'; stopped: Array<Pick<Job, 'id' | 'status'>> } | { kind: 'not_found' };

/**
 * delete project: the project and its jobs are deleted. Its unfinished jobs are locked first
 * (jobs before the project, the order every other transition takes its locks in), so the
 * statuses returned are final: a runner that started one meanwhile has committed, and any later
 * write of a runner to the deleted rows matches nothing.
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
    const deleted = await client.query('DELETE FROM projects WHERE id = $1::uuid AND owner_id = $2::uuid', [
      projectId,
      ownerId,
    ]);
    if (deleted.rowCount !== 1) return { kind: 'not_found' };
    return { kind: 'deleted', stopped: unfinished.rows };
  });
}
