import { ProjectView } from '../../features/project/components/project-view';

/** `/projects/:projectId`. */
export function ProjectRoute({ projectId }: { projectId: string }) {
  return <ProjectView projectId={projectId} />;
}
