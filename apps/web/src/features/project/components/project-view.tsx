import { Link } from 'wouter';
import { ErrorMessage } from '../../../components/error-message';
import { RelativeTime } from '../../../components/relative-time';
import { StatusBadge } from '../../../components/status-badge';
import { ApiError } from '../../../lib/api-client';
import { useProject } from '../api/get-project';

/** A project: its instruction, status and jobs. */
export function ProjectView({ projectId }: { projectId: string }) {
  const { data: project, error, isPending } = useProject(projectId);

  if (isPending) return <p className="muted">Loading the project…</p>;
  if (error && !project) {
    // Another tenant's project is a 404 too, exactly as a missing one.
    if (error instanceof ApiError && error.status === 404) {
      return (
        <section className="card">
          <h2>Project not found</h2>
          <p>
            It does not exist, or it is not yours. <Link href="/">Back to the projects</Link>.
          </p>
        </section>
      );
    }
    return <ErrorMessage error={error} prefix="The project could not be loaded." />;
  }
  if (!project) return null;
  return (
    <article className="card project">
      <p>
        <Link href="/">← Projects</Link>
      </p>
      <h2 className="project-title">{project.instruction}</h2>
      <p className="meta">
        <StatusBadge status={project.status} /> <span className="muted">created</span>{' '}
        <RelativeTime iso={project.created_at} />
      </p>
      {project.summary && <p>{project.summary}</p>}
      <h3>Jobs</h3>
      <ol className="job-list">
        {project.jobs.map((job) => (
          <li key={job.id}>
            <StatusBadge status={job.status} /> {job.job_type === 'edit' ? 'Edit' : 'Initial project'}:{' '}
            <span className="instruction">{job.instruction}</span>
          </li>
        ))}
      </ol>
    </article>
  );
}
