// A project's status is derived from its jobs by one function, refresh_project_status (defined in
// the migration 20261201080000_project_status_function): a running job makes the project
// in_progress, else a queued one queued, else it takes the status of its latest job that was not
// cancelled (cancelled if all were). Every transition that changes a job's status calls it in the
// same statement, after its own change, so nothing else writes projects.status.
//
// The function locks the project row before it reads the jobs (with a fresh snapshot), so writers
// of one project's jobs derive one after the other and the last one sees all of their changes.

/** The call, for a statement whose CTE or row source exposes `project_id` (and the summary). */
export const refreshProjectStatus = (projectId: string, summary?: string): string =>
  summary === undefined ? `refresh_project_status(${projectId})` : `refresh_project_status(${projectId}, ${summary})`;
