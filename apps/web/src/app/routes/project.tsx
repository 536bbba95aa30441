import { ProjectView } from '../../features/project/components/project-view';

/** `/projects/:projectId` (loaded on demand: the projects page does not pay for it). */
export default function ProjectRoute({ projectId }: { projectId: string }) {
  return <ProjectView projectId={projectId} />;
}
