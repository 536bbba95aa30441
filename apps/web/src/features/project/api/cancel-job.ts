import { JobDetail } from '@cwo/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';
import { jobPath } from './get-job';

/** Cancels a queued job at once, or asks the runner to stop a running one (within seconds). */
export function useCancelJob(projectId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) =>
      apiRequest(`${jobPath(projectId, jobId)}/cancel`, { method: 'POST', schema: JobDetail }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['project', projectId] }),
  });
}
