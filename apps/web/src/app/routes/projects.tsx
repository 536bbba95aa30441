import { useSearchParams } from 'wouter';
import { NewProjectForm } from '../../features/projects/components/new-project-form';
import { ProjectsList } from '../../features/projects/components/projects-list';

/** `/`: the "New project" box and the list; the page number lives in the URL (?page=2). */
export function ProjectsRoute() {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  return (
    <>
      <NewProjectForm />
      <ProjectsList page={page} onPage={(p) => setParams(p > 1 ? { page: String(p) } : {})} />
    </>
  );
}
