import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';
import { projectPath } from './get-project';

/** Deletes the project: its jobs are cancelled, its workspace, history and rows removed. */
export function useDeleteProject(projectId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => apiRequest(projectPath(projectId), { method: 'DELETE' }),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: ['project', projectId] });
      return queryClient.invalidateQueries({ queryKey: ['projects'] });
    },
  });
}
