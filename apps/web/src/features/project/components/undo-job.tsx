import { isFinished, type JobDetail, type JobSummary } from '@cwo/contracts';
import { ErrorMessage } from '../../../components/error-message';
import { useRevertJob } from '../api/revert-job';

/**
 * The revert that undoes `jobId` already, as the API counts one (queued, running or completed); a
 * revert that failed or was cancelled leaves the job to be undone again.
 */
export function liveRevertOf(jobs: readonly JobSummary[], jobId: string): JobSummary | undefined {
  return jobs.find((j) => j.reverts_job_id === jobId && j.status !== 'error' && j.status !== 'cancelled');
}

/** Whether undoing the job can do anything: it finished, changed files, and kept a commit of them. */
export function canUndo(job: JobDetail): boolean {
  const changed = job.created_files.length + job.modified_files.length + job.deleted_files.length > 0;
  return isFinished(job.status) && job.commit !== null && changed;
}

/**
 * "Undo this job": queues a revert job (the runner undoes the job's changes on top of the state
 * then) and selects it, so its log, its diff or its conflict are what is shown next.
 */
export function UndoJob({
  projectId,
  job,
  undoneBy,
  onQueued,
}: {
  projectId: string;
  job: JobDetail;
  /** The project's revert of this job, if one is queued, running or completed (liveRevertOf). */
  undoneBy?: JobSummary;
  onQueued?: (jobId: string) => void;
}) {
  const revert = useRevertJob(projectId);
  if (!canUndo(job)) return null;
  // A job is undone once (the API answers 409 to a second revert): say which job undoes it instead.
  if (undoneBy && !revert.isSuccess)
    return (
      <div className="undo-job">
        <p className="muted">
          {undoneBy.status === 'completed' ? 'Undone by' : 'Being undone by'} job {undoneBy.id.slice(0, 8)}.{' '}
          <button type="button" className="secondary" onClick={() => onQueued?.(undoneBy.id)}>
            Show that job
          </button>
        </p>
      </div>
    );
  return (
    <div className="undo-job">
      <button
        type="button"
        onClick={() => revert.mutate(job.id, { onSuccess: (queued) => onQueued?.(queued.id) })}
        disabled={revert.isPending}
      >
        Undo this job
      </button>
      {revert.isSuccess && (
        <p role="status" className="muted">
          Undo queued as job {revert.data.id.slice(0, 8)}: it runs after the jobs before it.
        </p>
      )}
      {revert.error && <ErrorMessage error={revert.error} prefix="The job could not be undone." />}
    </div>
  );
}
