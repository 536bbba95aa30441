import type { JobSummary } from '@cwo/contracts';
import { RelativeTime } from '../../../components/relative-time';
import { StatusBadge } from '../../../components/status-badge';
import { duration } from '../../../lib/format';
import { useNow } from '../../../lib/use-now';

export const JOB_TYPE_TEXT = { initial_project: 'Initial project', edit: 'Edit', revert: 'Undo' } as const;

function jobDuration(job: JobSummary, now: number): string | undefined {
  if (!job.started_at) return undefined;
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  return duration((end - Date.parse(job.started_at)) / 1000);
}

interface Props {
  jobs: JobSummary[];
  selectedId: string | undefined;
  onSelect: (jobId: string) => void;
}

/** The project's jobs in the order they were asked for; choosing one shows its detail and log. */
export function JobTimeline({ jobs, selectedId, onSelect }: Props) {
  const now = useNow(1_000);
  return (
    <ol className="timeline" aria-label="Jobs">
      {jobs.map((job, i) => {
        const took = jobDuration(job, now);
        return (
          <li key={job.id}>
            <button
              type="button"
              className={`timeline-item${job.id === selectedId ? ' selected' : ''}`}
              aria-current={job.id === selectedId ? 'true' : undefined}
              onClick={() => onSelect(job.id)}
            >
              <span className="timeline-head">
                <span className="timeline-title">
                  {i + 1}. {JOB_TYPE_TEXT[job.job_type]}
                </span>
                <StatusBadge status={job.status} />
                {job.error_code && <code className="error-code">{job.error_code}</code>}
              </span>
              <span className="instruction">{job.instruction}</span>
              <span className="timeline-times muted">
                queued <RelativeTime iso={job.created_at} />
                {job.started_at && (
                  <>
                    {' '}
                    · started <RelativeTime iso={job.started_at} />
                  </>
                )}
                {job.finished_at && (
                  <>
                    {' '}
                    · finished <RelativeTime iso={job.finished_at} />
                  </>
                )}
                {took && (
                  <>
                    {' '}
                    · {job.finished_at ? 'took' : 'running for'} {took}
                  </>
                )}
                {job.attempts > 1 && <> · {job.attempts} attempts</>}
              </span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}
