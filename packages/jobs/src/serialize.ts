import {
  CheckList,
  CheckResults,
  EgressRecord,
  ProjectSource,
  ErrorCode,
  type JobDetail,
  type JobSummary,
  type ProjectSummary,
  type QueuePosition,
  type TokenUsage,
} from '@cwo/contracts';
import type { Job, Project } from '@cwo/db';

// Database rows (camelCase, Date) to the contract's shapes (snake_case, ISO strings): what the API
// answers and what webhooks carry.

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toJobSummary(job: Job): JobSummary {
  return {
    id: job.id,
    project_id: job.projectId,
    job_type: job.jobType,
    instruction: job.instruction,
    status: job.status,
    attempts: job.attempts,
    created_at: job.createdAt.toISOString(),
    updated_at: job.updatedAt.toISOString(),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    error_code: toErrorCode(job),
    reverts_job_id: job.revertsJobId ?? null,
  };
}

/** The job's code; a code this version does not know (written by a newer runner) reads as null. */
function toErrorCode(job: Job): ErrorCode | null {
  const parsed = ErrorCode.safeParse(job.errorCode);
  return parsed.success ? parsed.data : null;
}

/** `queuePosition`: the job's place in the queue while it is queued (queuePosition in @cwo/jobs). */
export function toJobDetail(job: Job, queuePosition: QueuePosition | null = null): JobDetail {
  return {
    ...toJobSummary(job),
    summary: job.summary,
    created_files: job.createdFiles ?? [],
    modified_files: job.modifiedFiles ?? [],
    deleted_files: job.deletedFiles ?? [],
    errors: job.errors ?? [],
    result_path: job.resultPath,
    logs_path: job.logsPath,
    duration_seconds:
      job.startedAt && job.finishedAt ? (job.finishedAt.getTime() - job.startedAt.getTime()) / 1000 : null,
    usage: toTokenUsage(job),
    commit: job.commitSha,
    egress: toEgress(job.egress),
    checks: toChecks(job.checks),
    fix_attempts: job.fixAttempts ?? 0,
    check_results: toCheckResults(job.checkResults),
    queue_position: queuePosition,
  };
}

/** Written by the runner from the contracts' schema; read back through it (a row it cannot read: none). */
function toEgress(stored: unknown): EgressRecord | null {
  if (stored == null) return null;
  const parsed = EgressRecord.safeParse(stored);
  return parsed.success ? parsed.data : null;
}

/** Written through the contracts' schemas; a stored value they cannot read shows as none. */
const toChecks = (stored: unknown) => CheckList.catch([]).parse(stored ?? []);

function toCheckResults(stored: unknown): CheckResults | null {
  if (stored == null) return null;
  const parsed = CheckResults.safeParse(stored);
  return parsed.success ? parsed.data : null;
}

function toTokenUsage(job: Job): TokenUsage | null {
  if (job.inputTokens === null || job.outputTokens === null) return null;
  return {
    input_tokens: job.inputTokens,
    cached_input_tokens: job.cachedInputTokens ?? 0,
    output_tokens: job.outputTokens,
  };
}

export function toProjectSummary(project: Project): ProjectSummary {
  return {
    id: project.id,
    instruction: project.instruction,
    status: project.status,
    summary: project.summary,
    workspace_path: project.workspacePath,
    checks: toChecks(project.checks),
    fix_attempts: project.fixAttempts ?? 0,
    source: project.source === null ? null : ProjectSource.parse(project.source),
    created_at: project.createdAt.toISOString(),
    updated_at: project.updatedAt.toISOString(),
  };
}
