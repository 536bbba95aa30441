import { ProjectCreated, type ProjectCreate } from '@cwo/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '../../../lib/api-client';

export function createProject(body: ProjectCreate) {
  return apiRequest('/projects', { method: 'POST', body, schema: ProjectCreated });
}

export function useCreateProject() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createProject,
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['projects'] }),
  });
}
