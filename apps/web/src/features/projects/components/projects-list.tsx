import { Link } from 'wouter';
import { ErrorMessage } from '../../../components/error-message';
import { RelativeTime } from '../../../components/relative-time';
import { StatusBadge } from '../../../components/status-badge';
import { PAGE_SIZE, useProjects } from '../api/get-projects';

interface Props {
  page: number;
  onPage: (page: number) => void;
}

/** The caller's projects, newest first (the API's order), a page at a time. */
export function ProjectsList({ page, onPage }: Props) {
  const { data, error, isPending, isPlaceholderData } = useProjects(page);

  if (isPending) return <p className="muted">Loading projects…</p>;
  if (error && !data) return <ErrorMessage error={error} prefix="The projects could not be loaded." />;
  if (!data) return null;

  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  if (data.total === 0) {
    return <p className="empty">No projects yet. Describe what you want built in the box above.</p>;
  }
  const first = data.offset + 1;
  const last = data.offset + data.items.length;
  return (
    <section aria-labelledby="projects-title" aria-busy={isPlaceholderData}>
      <h2 id="projects-title">Projects</h2>
      {error && <ErrorMessage error={error} prefix="Could not refresh the list." />}
      <ul className="project-list">
        {data.items.map((p) => (
          <li key={p.id} className="project-row">
            <Link href={`/projects/${p.id}`} className="project-link">
              <span className="instruction">{p.instruction}</span>
            </Link>
            <span className="meta">
              <StatusBadge status={p.status} /> <span className="muted">created</span>{' '}
              <RelativeTime iso={p.created_at} />
            </span>
          </li>
        ))}
      </ul>
      <nav className="pager" aria-label="Pages of projects">
        <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 1}>
          Previous
        </button>
        <span aria-live="polite">
          {first}–{last} of {data.total} (page {page} of {pages})
        </span>
        <button type="button" onClick={() => onPage(page + 1)} disabled={page >= pages}>
          Next
        </button>
      </nav>
    </section>
  );
}
