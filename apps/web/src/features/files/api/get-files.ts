import { FileList } from '@cwo/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
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
  const query = useQuery(filesQueryOptions(projectId, active));
  const { refetch } = query;
  // The last poll may come before the job's last write: when the jobs have just finished, the
  // listing is asked once more, or the tree could stay empty (or stale) until a reload.
  const wasActive = useRef(active);
  useEffect(() => {
    if (wasActive.current && !active) void refetch();
    wasActive.current = active;
  }, [active, refetch]);
  return query;
}
