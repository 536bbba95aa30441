import { JobDiff } from '../../diff/components/lazy-job-diff';
import { JobLogView } from '../../job-log/components/job-log';
import { useJob } from '../api/get-job';
import { JobDetails } from './job-details';
import type { JobSummary } from '@cwo/contracts';
import { UndoJob } from './undo-job';

/** The chosen job: what it did (and undoing it), its live log, and once it has a commit, its diff. */
export function JobPanel({
  projectId,
  jobId,
  title,
  undoneBy,
  onQueued,
}: {
  projectId: string;
  jobId: string;
  title: string;
  /** The revert that undoes this job already, if any. */
  undoneBy?: JobSummary;
  /** A job was queued from the panel (an undo), or its undo is asked for: it is selected next. */
  onQueued?: (jobId: string) => void;
}) {
  const { data: job } = useJob(projectId, jobId);
  return (
    <section className="card job-panel" aria-label="The chosen job">
      <JobDetails projectId={projectId} jobId={jobId} title={title} />
      {job && <UndoJob projectId={projectId} job={job} undoneBy={undoneBy} onQueued={onQueued} />}
      <JobLogView projectId={projectId} jobId={jobId} />
      {job?.commit && <JobDiff projectId={projectId} jobId={jobId} />}
    </section>
  );
}
