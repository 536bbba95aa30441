// The state machine of jobs and projects (docs/architecture.md): named, guarded transitions, each
// one statement or transaction that derives the project's status again (project-status.ts);
// nothing else writes jobs.status, jobs.attempts, jobs.cancel_requested_at or projects.status.
export {
  createJob,
  createProjectWithInitialJob,
  createRevertJob,
  type CreateJobResult,
  type CreateProjectResult,
  type CreateRevertJobResult,
} from './create';
export {
  cancelUnstartedJob,
  finishJob,
  finishJobFindingNext,
  giveUpJob,
  giveUpWithOutcome,
  requeueJob,
  startJob,
  type FencedResult,
  type FinishResult,
  type JobOutcome,
  type StartResult,
} from './run';
export { cancelJob, type CancelResult } from './cancel';
export { deleteProject, type DeleteProjectResult } from './delete';
export {
  findJob,
  findJobStatus,
  findProject,
  findProjectWithJobs,
  listJobs,
  listProjects,
  queuePosition,
  type ProjectWithJobs,
} from './owner-queries';
export {
  jobContext,
  jobStatuses,
  jobsToStop,
  jobsUntouchedSince,
  loadJob,
  nextQueuedJobId,
  projectImport,
  recordImportCommit,
  recordedWorkspaceOf,
  type RecordedWorkspace,
  type RunnableJob,
  type UnfinishedJob,
} from './runner-queries';
export { updateProjectDefaults, type ProjectDefaults } from './project-defaults';
export { isUuid } from './ids';
export { toJobDetail, toJobSummary, toProjectSummary } from './serialize';
export { jobFromJson, projectFromJson } from './rows';
