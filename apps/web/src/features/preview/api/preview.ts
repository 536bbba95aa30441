import { Preview, type PreviewStart } from '@cwo/contracts';
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';

// GET/POST/DELETE /projects/{id}/preview (docs/previews.md): the project's preview, static or its
// server in a preview container.

const STARTING_POLL_MS = 1_000;
/** While a server runs, its log grows and it may stop by itself (idle, a job restarted it). */
const RUNNING_POLL_MS = 5_000;

export const previewPath = (projectId: string) => `/projects/${encodeURIComponent(projectId)}/preview`;
const previewKey = (projectId: string) => ['preview', projectId] as const;

export function previewQueryOptions(projectId: string) {
  return queryOptions({
    queryKey: previewKey(projectId),
    queryFn: ({ signal }) => apiRequest(previewPath(projectId), { schema: Preview, signal }),
    refetchInterval: (query) => {
      const p = query.state.data;
      if (p?.kind !== 'server') return false;
      if (p.status === 'starting') return STARTING_POLL_MS;
      return p.status === 'running' ? RUNNING_POLL_MS : false;
    },
  });
}

export function usePreview(projectId: string) {
  return useQuery(previewQueryOptions(projectId));
}

/** Starts the project's server: the given command and port, else the one the agent named (result.json). */
export function useStartPreview(projectId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (spec: PreviewStart | undefined) =>
      apiRequest(previewPath(projectId), { method: 'POST', body: spec ?? {}, schema: Preview }),
    onSuccess: (preview) => queryClient.setQueryData(previewKey(projectId), preview),
  });
}

export function useStopPreview(projectId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => apiRequest(previewPath(projectId), { method: 'DELETE' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: previewKey(projectId) }),
  });
}
