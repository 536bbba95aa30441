import { JobSummary, type JobCreate } from '@cwo/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';
import { projectPath } from './get-project';

/** Queues the project's next job (an edit). */
export function useCreateEdit(projectId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: JobCreate) =>
      apiRequest(`${projectPath(projectId)}/jobs`, { method: 'POST', body, schema: JobSummary }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['project', projectId] }),
  });
}
