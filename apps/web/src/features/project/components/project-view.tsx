import { isFinished } from '@cwo/contracts';
import { Link, useSearchParams } from 'wouter';
import { ErrorMessage } from '../../../components/error-message';
import { RelativeTime } from '../../../components/relative-time';
import { StatusBadge } from '../../../components/status-badge';
import { ApiError } from '../../../lib/api-client';
import { ProjectFiles } from '../../files/components/project-files';
import { ProjectTabs } from '../../preview/components/project-tabs';
import { useProject } from '../api/get-project';
import { DeleteProject } from './delete-project';
import { DownloadArchive } from './download-archive';
import { EditForm } from './edit-form';
import { JobPanel } from './job-panel';
import { liveRevertOf } from './undo-job';
import { JOB_TYPE_TEXT, JobTimeline } from './job-timeline';

function NotFound() {
  return (
    <section className="card">
      <h2>Project not found</h2>
      <p>
        It does not exist, or it is not yours. <Link href="/">Back to the projects</Link>.
      </p>
    </section>
  );
}

/** A project: instruction and status, its jobs, the chosen job's detail and live log, the next edit. */
export function ProjectView({ projectId }: { projectId: string }) {
  const { data: project, error, isPending } = useProject(projectId);
  const [params, setParams] = useSearchParams();

  if (isPending) return <p className="muted">Loading the project…</p>;
  if (error && !project) {
    // Another tenant's project is a 404 too, exactly as a missing one.
    if (error instanceof ApiError && error.status === 404) return <NotFound />;
    return <ErrorMessage error={error} prefix="The project could not be loaded." />;
  }
  if (!project) return null;

  // The job in the address (?job=<id>), else the latest one.
  const wanted = params.get('job');
  const selected = project.jobs.find((j) => j.id === wanted) ?? project.jobs[project.jobs.length - 1];
  const select = (jobId: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        next.set('job', jobId);
        return next;
      },
      { replace: true },
    );

  return (
    <article className="project">
      <section className="card">
        <p>
          <Link href="/">← Projects</Link>
        </p>
        <h2 className="project-title">{project.instruction}</h2>
        <p className="meta">
          <StatusBadge status={project.status} /> <span className="muted">created</span>{' '}
          <RelativeTime iso={project.created_at} />
        </p>
        {project.summary && <p>{project.summary}</p>}
        <DownloadArchive projectId={project.id} />
        <EditForm projectId={project.id} onQueued={select} />
        {error && <ErrorMessage error={error} prefix="Could not refresh the project." />}
      </section>
      <div className="project-columns">
        <section className="card" aria-labelledby="jobs-title">
          <h3 id="jobs-title">Jobs</h3>
          <JobTimeline jobs={project.jobs} selectedId={selected?.id} onSelect={select} />
        </section>
        {selected && (
          <JobPanel
            key={selected.id}
            projectId={project.id}
            jobId={selected.id}
            title={`Job ${project.jobs.indexOf(selected) + 1}: ${JOB_TYPE_TEXT[selected.job_type]}`}
            undoneBy={liveRevertOf(project.jobs, selected.id)}
            onQueued={select}
          />
        )}
      </div>
      <ProjectTabs
        projectId={project.id}
        files={<ProjectFiles projectId={project.id} active={!isFinished(project.status)} />}
      />
      <section className="card danger-zone" aria-label="Delete">
        <DeleteProject projectId={project.id} />
      </section>
    </article>
  );
}
