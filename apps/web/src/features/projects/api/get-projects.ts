import { isFinished, ProjectList } from '@cwo/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';

export const PAGE_SIZE = 20;

/** While any project on the page is unfinished its status changes soon: poll faster. */
const ACTIVE_POLL_MS = 2_000;
const IDLE_POLL_MS = 15_000;

export function projectsQueryOptions(page: number) {
  const offset = (page - 1) * PAGE_SIZE;
  return queryOptions({
    queryKey: ['projects', { limit: PAGE_SIZE, offset }],
    queryFn: ({ signal }) =>
      apiRequest(`/projects?limit=${PAGE_SIZE}&offset=${offset}`, { schema: ProjectList, signal }),
    refetchInterval: (query) =>
      query.state.data?.items.some((p) => !isFinished(p.status)) ? ACTIVE_POLL_MS : IDLE_POLL_MS,
    placeholderData: (previous) => previous,
  });
}

export function useProjects(page: number) {
  return useQuery(projectsQueryOptions(page));
}
