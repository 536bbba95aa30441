import { isFinished, type JobDetail } from '@cwo/contracts';
import { ErrorMessage } from '../../../components/error-message';
import { useRevertJob } from '../api/revert-job';

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
  onQueued,
}: {
  projectId: string;
  job: JobDetail;
  onQueued?: (jobId: string) => void;
}) {
  const revert = useRevertJob(projectId);
  if (!canUndo(job)) return null;
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
