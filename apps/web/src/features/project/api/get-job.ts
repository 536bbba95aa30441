import { isFinished, JobDetail } from '@cwo/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';
import { projectPath } from './get-project';

const ACTIVE_POLL_MS = 1_500;

export const jobPath = (projectId: string, jobId: string) =>
  `${projectPath(projectId)}/jobs/${encodeURIComponent(jobId)}`;

/** One job's detail: summary, files, errors, usage, commit, and where it stands while queued. */
export function jobQueryOptions(projectId: string, jobId: string) {
  return queryOptions({
    queryKey: ['project', projectId, 'job', jobId],
    queryFn: ({ signal }) => apiRequest(jobPath(projectId, jobId), { schema: JobDetail, signal }),
    refetchInterval: (query) => (query.state.data && isFinished(query.state.data.status) ? false : ACTIVE_POLL_MS),
  });
}

export function useJob(projectId: string, jobId: string) {
  return useQuery(jobQueryOptions(projectId, jobId));
}
