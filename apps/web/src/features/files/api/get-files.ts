import { FileList } from '@cwo/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';

export const filesPath = (projectId: string) => `/projects/${encodeURIComponent(projectId)}/files`;

/** The workspace's files; polled while the project has unfinished jobs (they change them). */
export function filesQueryOptions(projectId: string, active: boolean) {
  return queryOptions({
    queryKey: ['project', projectId, 'files'],
    queryFn: ({ signal }) => apiRequest(filesPath(projectId), { schema: FileList, signal }),
    refetchInterval: active ? 3_000 : false,
  });
}

export function useFiles(projectId: string, active: boolean) {
  return useQuery(filesQueryOptions(projectId, active));
}
