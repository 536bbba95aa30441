import { JobDiff } from '../../diff/components/job-diff';
import { JobLogView } from '../../job-log/components/job-log';
import { useJob } from '../api/get-job';
import { JobDetails } from './job-details';

/** The chosen job: what it did, its live log, and once it has a commit, its diff. */
export function JobPanel({ projectId, jobId, title }: { projectId: string; jobId: string; title: string }) {
  const { data: job } = useJob(projectId, jobId);
  return (
    <section className="card job-panel" aria-label="The chosen job">
      <JobDetails projectId={projectId} jobId={jobId} title={title} />
      <JobLogView projectId={projectId} jobId={jobId} />
      {job?.commit && <JobDiff projectId={projectId} jobId={jobId} />}
    </section>
  );
}
