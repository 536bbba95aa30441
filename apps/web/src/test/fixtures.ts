import type { JobDetail, JobSummary, ProjectCreated, ProjectSummary, SessionInfo } from '@cwo/contracts';

// API answers for component tests, typed by the contracts: a field the API gains is a type error
// here until the fixtures have it, and the app checks answers against the same schemas.

export const PROJECT_ID = '4b7c8a1e-0000-4000-8000-000000000001';
export const JOB_ID = '4b7c8a1e-0000-4000-8000-000000000002';
const T0 = '2026-12-01T10:00:00.000Z';

export function projectFixture(over: Partial<ProjectSummary> = {}): ProjectSummary {
  return {
    id: PROJECT_ID,
    instruction: 'Build a CLI',
    status: 'queued',
    summary: null,
    workspace_path: `/w/${PROJECT_ID}`,
    checks: [],
    fix_attempts: 0,
    source: null,
    created_at: T0,
    updated_at: T0,
    ...over,
  };
}

export function jobSummaryFixture(over: Partial<JobSummary> = {}): JobSummary {
  return {
    id: JOB_ID,
    project_id: PROJECT_ID,
    job_type: 'initial_project',
    instruction: 'Build a CLI',
    status: 'queued',
    attempts: 0,
    created_at: T0,
    updated_at: T0,
    started_at: null,
    finished_at: null,
    error_code: null,
    reverts_job_id: null,
    ...over,
  };
}

export function projectCreatedFixture(): ProjectCreated {
  return { ...projectFixture(), job: jobSummaryFixture() };
}

export function jobDetailFixture(over: Partial<JobDetail> = {}): JobDetail {
  return {
    ...jobSummaryFixture({ job_type: 'edit', instruction: 'Append a line' }),
    summary: null,
    created_files: [],
    modified_files: [],
    deleted_files: [],
    errors: [],
    result_path: null,
    logs_path: null,
    duration_seconds: null,
    usage: null,
    commit: null,
    egress: null,
    checks: [],
    fix_attempts: 0,
    check_results: null,
    queue_position: null,
    ...over,
  };
}

export function sessionFixture(over: Partial<SessionInfo> = {}): SessionInfo {
  return {
    auth_mode: 'api_key',
    user: { id: '4b7c8a1e-0000-4000-8000-0000000000a1', name: 'alice' },
    api_key: { id: '4b7c8a1e-0000-4000-8000-0000000000a2', prefix: 'cwo_AbCdEfGh', name: 'default', is_admin: false },
    via: 'cookie',
    expires_at: '2026-12-01T22:00:00.000Z',
    ...over,
  };
}
