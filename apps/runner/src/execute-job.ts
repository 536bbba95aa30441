import {
  agentErrorCode,
  type CheckResults,
  type EgressRecord,
  type ErrorCode,
  type WorkerRequest,
  type WorkerResult,
} from '@cwo/contracts';
import type { Config } from '@cwo/config';
import { diffSnapshots, SnapshotLimitError, takeSnapshot, type Snapshot, type WorkspaceDiff } from '@cwo/history';
import { CODEX_DIR, relativeJobResultPath, relativeResultPath } from '@cwo/workspace';
import { judgeChecks } from './check-verdict';
import { InfrastructureError, JobFailure, type Executor } from './executors/types';
import { describeError } from './describe-error';
import { diskFullError, diskIsFull, isDiskFullError } from './disk-full';
import { abortReasonOf, JobAbort, RunnerStopping } from './job-abort';
import type { JobLog } from './job-log';
import type { JobOutcome } from './outcome';
import { prepareWorkspace } from './prepare-workspace';
import { readResultFile, ResultFileError } from './result-file';
import { linkOrWrite } from './safe-fs';

// One attempt at a job, from a prepared workspace to its outcome: request.json, a snapshot, the
// executor under a time limit, a second snapshot, and result.json checked. Failures of the job
// itself (timeout, cancel, a bad or failed result) become an outcome, with its error code
// (docs/outcomes.md) decided here; failures around it (infrastructure, this runner stopping) are
// thrown for the failure policy (attempt-failure.ts).

export interface ExecuteContext {
  config: Pick<Config, 'JOB_TIMEOUT_SECONDS' | 'HISTORY_IGNORE'>;
  executor: Executor;
  workspace: string;
  request: WorkerRequest;
  attempt: number;
  log: JobLog;
  /** Aborted on cancel, shutdown or a lost lock; the time limit aborts it too. */
  controller: AbortController;
  /** See ExecutorRun.mayChangeWorkspace. */
  mayChangeWorkspace?: () => boolean;
  /**
   * Puts the workspace back to what the project's history recorded, given its snapshot; true when
   * it changed anything (restore-step.ts). Called once the executor has stopped earlier runs.
   */
  restore?: (snapshot: Snapshot) => Promise<boolean>;
  /**
   * The project's stat index (@cwo/history's loadStatIndex): the "before" snapshot reads again only
   * the files changed since the last commit. Null when there is none.
   */
  statIndex?: () => Snapshot | null;
  /** Tests: the snapshots' entry limit (the workspace package's default otherwise). */
  maxSnapshotEntries?: number;
}

function describeDifferences(result: WorkerResult, files: WorkspaceDiff): string | null {
  const listed = (a: string[]) => [...new Set(a.filter((p) => !p.startsWith(`${CODEX_DIR}/`)))].sort().join(', ');
  const parts: string[] = [];
  for (const [name, reported, seen] of [
    ['created', result.created_files, files.created],
    ['modified', result.modified_files, files.modified],
    ['deleted', result.deleted_files, files.deleted],
  ] as const) {
    if (listed(reported) !== listed(seen))
      parts.push(`${name}: agent said [${listed(reported)}], workspace shows [${listed(seen)}]`);
  }
  return parts.length ? parts.join('; ') : null;
}

export interface ExecutedJob {
  outcome: JobOutcome;
  /** The workspace after the run (null when it could not be taken): the history commits it. */
  after: Snapshot | null;
  /** The job failed for lack of space: what it changed is not kept (the runner rolls it back). */
  diskFull: boolean;
}

const ms = (x: number) => Math.round(x);
/** How a walk by find went (@cwo/history's walkSince): what an operator looks at when snapshots are slow. */
const walkOf = (s: Snapshot) =>
  s.walker !== 'find'
    ? ''
    : `; find printed ${s.recordsParsed ?? 0} records, ${s.carried ?? 0} unchanged files taken over`;

export async function executeJob(ctx: ExecuteContext): Promise<ExecutedJob> {
  const executed: Omit<ExecutedJob, 'outcome'> = { after: null, diskFull: false };
  const outcome = await runAndCheck(ctx, executed);
  return { outcome, ...executed };
}

async function runAndCheck(ctx: ExecuteContext, executed: Omit<ExecutedJob, 'outcome'>): Promise<JobOutcome> {
  const { workspace, request, log, controller, executor } = ctx;
  const signal = controller.signal;
  // The snapshot leaves out .codex/, the only place the preparation writes to.
  prepareWorkspace(workspace, request, (m) => log.step(m));
  // Nothing an earlier run left may write in the workspace once it is checked.
  await executor.stopEarlierRuns?.({ request, log: (line) => log.agent(line) });
  // What the history leaves out, the snapshots do too (a job's files are those of its commit).
  const opts = { maxEntries: ctx.maxSnapshotEntries, ignore: ctx.config.HISTORY_IGNORE };
  const started = performance.now();
  let before = await takeSnapshot(workspace, { ...opts, previous: ctx.statIndex?.() });
  const { size, filesRead } = before;
  const walked = walkOf(before);
  const taken = performance.now();
  if (ctx.restore && (await ctx.restore(before))) before = await takeSnapshot(workspace, { ...opts, previous: before });
  log.step(
    `workspace snapshot: ${size} files, ${filesRead} read (${ms(taken - started)} ms; ` +
      `checked against the history in ${ms(performance.now() - taken)} ms)${walked}`,
  );

  const limitSeconds = ctx.config.JOB_TIMEOUT_SECONDS;
  log.step(`running the ${executor.name} executor (time limit ${limitSeconds} s)`);
  const timer = setTimeout(() => controller.abort(new JobAbort('timeout')), limitSeconds * 1000);
  let runError: unknown = null;
  let egress: EgressRecord | null = null;
  // Set when the executor saw the checks run itself (see ExecutorRun.recordChecks).
  let observed: { checks: CheckResults | null } | null = null;
  try {
    await executor.run({
      workspace,
      request,
      log: (line) => log.agent(line),
      signal,
      mayChangeWorkspace: ctx.mayChangeWorkspace,
      recordEgress: (record) => (egress = record),
      recordChecks: (checks) => (observed = { checks }),
    });
  } catch (err) {
    runError = err;
  } finally {
    clearTimeout(timer);
  }

  const reason = abortReasonOf(signal);
  if (reason === 'shutdown') throw new RunnerStopping();
  if (reason === 'lock_lost') throw new InfrastructureError('the project lock was lost while the job ran');
  // A full disk ends the job (see disk-full.ts); other infrastructure failures are retried.
  const diskFull = runError !== null && (isDiskFullError(runError) || diskIsFull(workspace));
  if (!reason && runError instanceof InfrastructureError && !diskFull) throw runError;

  const base = {
    attempt: ctx.attempt,
    result_path: null,
    summary: null as string | null,
    usage: null,
    thread_id: null,
    commit_sha: null,
    // Kept whatever the outcome: a denied connection may be why the agent failed.
    egress,
    error_code: null as ErrorCode | null,
    checks: null,
  };
  let files: WorkspaceDiff;
  try {
    // The "before" of this attempt lets unchanged files keep their hash without being read again.
    const afterStarted = performance.now();
    const after = await takeSnapshot(workspace, { ...opts, previous: before });
    log.step(
      `workspace snapshot after the run: ${after.size} files, ${after.filesRead} read (${ms(performance.now() - afterStarted)} ms)${walkOf(after)}`,
    );
    executed.after = after;
    files = diffSnapshots(before, after);
  } catch (err) {
    if (!(err instanceof SnapshotLimitError)) throw err;
    return {
      ...base,
      status: 'error',
      error_code: 'workspace_too_large',
      errors: [`the workspace is too large to check: ${err.message}`],
      created_files: [],
      modified_files: [],
      deleted_files: [],
    };
  }
  const withFiles = {
    ...base,
    created_files: files.created,
    modified_files: files.modified,
    deleted_files: files.deleted,
  };

  if (reason === 'timeout') {
    log.step(`stopped: the time limit of ${limitSeconds} s passed`);
    return {
      ...withFiles,
      status: 'error',
      summary: `Stopped after the time limit of ${limitSeconds} s.`,
      errors: ['timeout'],
      error_code: 'timeout',
    };
  }
  if (reason === 'cancel') {
    log.step('stopped: cancelled on request');
    return { ...withFiles, status: 'cancelled', summary: 'Cancelled on request.', errors: [], error_code: 'cancelled' };
  }
  if (runError) {
    const message = describeError(runError);
    log.step(`the executor failed: ${message}`);
    const error = `the executor failed: ${message}`;
    executed.diskFull = diskFull;
    if (diskFull) return { ...withFiles, status: 'error', errors: [diskFullError(error)], error_code: 'disk_full' };
    // An executor names the cause it knows; anything else went wrong in the runner's own code.
    const code = runError instanceof JobFailure ? runError.code : 'infrastructure';
    return { ...withFiles, status: 'error', errors: [error], error_code: code };
  }

  try {
    // result.json is under .codex/, which the snapshot leaves out.
    const { result, raw, stat } = readResultFile(workspace);
    linkOrWrite(workspace, relativeJobResultPath(request.job_id), relativeResultPath(), stat, raw);
    const differences = describeDifferences(result, files);
    if (differences)
      log.step(`the agent's file lists differ from the workspace (the workspace's are kept): ${differences}`);
    const errors =
      result.status === 'error' && result.errors.length === 0
        ? ['the agent reported an error without details']
        : result.errors;
    // The checks' results as the executor saw them when it ran them here, else as the worker reported them.
    const reported = observed as { checks: CheckResults | null } | null;
    const verdict = judgeChecks(
      request.checks,
      reported ? { ...result, checks: reported.checks ?? undefined } : result,
    );
    const checks = verdict.kind === 'none' ? null : verdict.checks;
    const agentDone = result.status === 'success';
    const checksFailed = agentDone && verdict.kind === 'failed';
    if (checksFailed) log.step(`checks failed: ${verdict.errors.join('; ')}`);
    else if (agentDone && verdict.kind === 'passed')
      log.step(`checks passed (${verdict.checks.rounds.length} round(s))`);
    return {
      ...withFiles,
      status: agentDone && !checksFailed ? 'completed' : 'error',
      error_code: !agentDone ? agentErrorCode(result.error_code) : checksFailed ? 'checks_failed' : null,
      summary: result.summary === '' ? null : result.summary,
      errors: checksFailed ? verdict.errors : errors,
      checks,
      result_path: relativeJobResultPath(request.job_id),
      usage: result.usage ?? null,
      thread_id: result.thread_id ?? null,
    };
  } catch (err) {
    if (!(err instanceof ResultFileError)) throw err;
    log.step(err.message);
    executed.diskFull = diskIsFull(workspace);
    return {
      ...withFiles,
      status: 'error',
      errors: [executed.diskFull ? diskFullError(err.message) : err.message],
      error_code: executed.diskFull ? 'disk_full' : 'invalid_result',
    };
  }
}
