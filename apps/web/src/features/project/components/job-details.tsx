import { ERROR_CODE_MEANINGS, isFinished, type JobDetail } from '@cwo/contracts';
import { ErrorMessage } from '../../../components/error-message';
import { localTime } from '../../../lib/format';
import { useCancelJob } from '../api/cancel-job';
import { useJob } from '../api/get-job';

function Files({ label, paths }: { label: string; paths: string[] }) {
  if (paths.length === 0) return null;
  return (
    <>
      <dt>{label}</dt>
      <dd>
        <ul className="file-names">
          {paths.map((p) => (
            <li key={p}>
              <code>{p}</code>
            </li>
          ))}
        </ul>
      </dd>
    </>
  );
}

/** Where a queued job stands, in words (the job's panel and the edit box say it alike). */
export function queueStandingText(job: JobDetail): string | null {
  if (job.status !== 'queued' || !job.queue_position) return null;
  const { in_project, overall } = job.queue_position;
  const ahead = (n: number) => `${n} job${n === 1 ? '' : 's'}`;
  return in_project === 0 && overall === 0
    ? 'Next in line: it starts as soon as a runner is free.'
    : `Waiting for ${ahead(in_project)} of this project and ${ahead(overall)} in the whole queue to finish first.`;
}

function QueueStanding({ job }: { job: JobDetail }) {
  const text = queueStandingText(job);
  if (!text) return null;
  return (
    <p className="queue-position" role="status">
      {text}
    </p>
  );
}

/** What one job did: summary, errors (with what its code means), files, tokens, commit; cancel. */
export function JobDetails({ projectId, jobId, title }: { projectId: string; jobId: string; title: string }) {
  const { data: job, error } = useJob(projectId, jobId);
  const cancel = useCancelJob(projectId);

  if (error && !job) return <ErrorMessage error={error} prefix="The job could not be loaded." />;
  if (!job) return <p className="muted">Loading the job…</p>;
  const cancellable = !isFinished(job.status);
  return (
    <div className="job-details">
      <h3>{title}</h3>
      <QueueStanding job={job} />
      {cancellable && (
        <p>
          <button
            type="button"
            className="danger"
            onClick={() => cancel.mutate(job.id)}
            disabled={cancel.isPending || cancel.isSuccess}
          >
            {job.status === 'queued' ? 'Cancel this job' : 'Stop this job'}
          </button>
          {cancel.isSuccess && job.status === 'in_progress' && (
            <span className="muted" role="status">
              {' '}
              Stopping: the runner ends it within seconds.
            </span>
          )}
        </p>
      )}
      {cancel.isError && <ErrorMessage error={cancel.error} prefix="The job was not cancelled." />}
      {job.summary && <p className="summary">{job.summary}</p>}
      {job.error_code && (
        <div className="job-errors" role="group" aria-label="Why it did not complete">
          <p>
            <code className="error-code">{job.error_code}</code> {ERROR_CODE_MEANINGS[job.error_code]}
          </p>
          {job.errors.length > 0 && (
            <ul>
              {job.errors.map((e, i) => (
                <li key={i}>{e}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <dl className="facts">
        <dt>Queued</dt>
        <dd>{localTime(job.created_at)}</dd>
        {job.started_at && (
          <>
            <dt>Started</dt>
            <dd>{localTime(job.started_at)}</dd>
          </>
        )}
        {job.finished_at && (
          <>
            <dt>Finished</dt>
            <dd>
              {localTime(job.finished_at)}
              {job.duration_seconds !== null && ` (${job.duration_seconds.toFixed(1)} s)`}
            </dd>
          </>
        )}
        <dt>Attempts</dt>
        <dd>{job.attempts}</dd>
        {job.usage && (
          <>
            <dt>Tokens</dt>
            <dd>
              {job.usage.input_tokens.toLocaleString('en')} in ({job.usage.cached_input_tokens.toLocaleString('en')}{' '}
              cached), {job.usage.output_tokens.toLocaleString('en')} out
            </dd>
          </>
        )}
        {job.commit && (
          <>
            <dt>Commit</dt>
            <dd>
              <code title={job.commit}>{job.commit.slice(0, 12)}</code>
            </dd>
          </>
        )}
        <Files label="Created" paths={job.created_files} />
        <Files label="Modified" paths={job.modified_files} />
        <Files label="Deleted" paths={job.deleted_files} />
      </dl>
    </div>
  );
}
