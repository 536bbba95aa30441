import { JobSummary } from '@cwo/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';
import { jobPath } from './get-job';

/** Queues a job of type revert that undoes the job's changes (POST …/jobs/{jobId}/revert). */
export function useRevertJob(projectId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) =>
      apiRequest(`${jobPath(projectId, jobId)}/revert`, { method: 'POST', schema: JobSummary }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['project', projectId] }),
  });
}
