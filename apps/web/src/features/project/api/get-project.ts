import { isFinished, ProjectDetail } from '@cwo/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';

const ACTIVE_POLL_MS = 1_500;

export const projectPath = (projectId: string) => `/projects/${encodeURIComponent(projectId)}`;

export function projectQueryOptions(projectId: string) {
  return queryOptions({
    queryKey: ['project', projectId],
    queryFn: ({ signal }) => apiRequest(projectPath(projectId), { schema: ProjectDetail, signal }),
    // Jobs move on their own while the project is unfinished; once it is, nothing changes by itself.
    refetchInterval: (query) => (query.state.data && !isFinished(query.state.data.status) ? ACTIVE_POLL_MS : false),
  });
}

export function useProject(projectId: string) {
  return useQuery(projectQueryOptions(projectId));
}
