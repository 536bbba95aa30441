import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiText } from '../../../lib/api-client';

/** A job's unified diff: it exists once the job has a commit, and never changes after. */
export function diffQueryOptions(projectId: string, jobId: string) {
  return queryOptions({
    queryKey: ['project', projectId, 'job', jobId, 'diff'],
    queryFn: ({ signal }) =>
      apiText(`/projects/${encodeURIComponent(projectId)}/jobs/${encodeURIComponent(jobId)}/diff`, signal),
    staleTime: Infinity,
  });
}

export function useDiff(projectId: string, jobId: string) {
  return useQuery(diffQueryOptions(projectId, jobId));
}
