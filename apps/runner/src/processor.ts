import { setTimeout as sleep } from 'node:timers/promises';
import type { Job as BullJob } from 'bullmq';
import { isFinished, QueuePayload, type WorkerRequest } from '@cwo/contracts';
import type { Config } from '@cwo/config';
import type { Db } from '@cwo/db';
import {
  cancelUnstartedJob,
  jobContext,
  loadJob,
  recordedWorkspaceOf,
  startJob,
  type RecordedWorkspace,
  type RunnableJob,
} from '@cwo/jobs';
import type { Logger } from '@cwo/logger';
import type { JobsQueue } from '@cwo/queue';
import { loadStatIndex, projectHistoryDir, type Snapshot } from '@cwo/history';
import { projectWorkspace } from '@cwo/workspace';
import { createFailurePolicy, redeliverLater, waitOutOutage, type QueueEntry } from './attempt-failure';
import { describeError } from './describe-error';
import { diskFullError, diskIsFull } from './disk-full';
import { executeJob } from './execute-job';
import { InfrastructureError, type Executor } from './executors/types';
import { writeOutcome } from './finish-step';
import { commitJobChanges } from './job-commit';
import { abortReasonOf, JobAbort, RunnerStopping } from './job-abort';
import { openJobLog, type JobLog } from './job-log';
import { runImportStep } from './import-step';
import { clearRecordedOutcome, outcomeWithoutRun, readRecordedOutcome, type JobOutcome } from './outcome';
import type { ProjectLock, ProjectLocks } from './project-lock';
import { restoreRecordedWorkspace } from './restore-step';
import { runRevertStep } from './revert-step';
import type { RunningJobs } from './running-jobs';

// The BullMQ processor: what happens to one {jobId} taken from the queue, as its steps:
//   load · lock · start · prepare · run · check · commit · finish
// (prepare, run and check are executeJob's, or for a revert job revert-step.ts's; what happens when a step throws is the failure
// policy's, attempt-failure.ts).
//
// Delivery is at-least-once, so every step tolerates a repeat: a finished job is acknowledged
// and skipped; a job found in_progress (its runner died) is run again from the start, on the
// workspace as the project's history recorded it (prepare restores it: restore-step.ts), unless
// an earlier attempt kept its outcome on disk and only the database write was missing. Every
// write to the workspace (the restore, the agent, the commit, a rollback) first checks that the
// project's lock is still fresh: a runner frozen past its TTL wakes to find another has the job.
//
// Ordering: a job runs only while it holds its project's lock in Redis AND it is the oldest
// unfinished job of its project (by jobs.seq). Otherwise it is redelivered later (BullMQ's
// delayed set), which does not count as an attempt.

export type ProcessResult = 'missing' | 'already_finished' | 'cancelled' | 'completed' | 'error' | 'finished_elsewhere';

export interface ProcessorDeps {
  db: Db;
  config: Config;
  logger: Logger;
  executor: Executor;
  locks: ProjectLocks;
  running: RunningJobs;
  runnerId: string;
  /** To wake a project's next job when one finishes (optional: without it, it wakes on its own). */
  queue?: JobsQueue;
}

/** For a failure before the job's log could be opened. */
const NO_LOG: JobLog = { step() {}, agent() {}, flush() {}, close() {} };

interface Attempt {
  entry: QueueEntry;
  job: RunnableJob;
  attempt: number;
  controller: AbortController;
  lock: ProjectLock;
  workspace: string;
  /** What the workspace should hold as the job starts (read from Postgres meanwhile). */
  recorded: Promise<RecordedWorkspace>;
}

export function createJobProcessor(deps: ProcessorDeps) {
  const { db, config, logger, locks, running } = deps;
  const afterFailedAttempt = createFailurePolicy(deps);

  return async function processJob(bullJob: BullJob, token?: string): Promise<ProcessResult> {
    const entry = { bullJob, token };
    // Postgres not answering before the attempt has started: the job is put back, not failed.
    const waitOut = (err: unknown) => waitOutOutage(entry, config, err);
    // load
    const { jobId } = QueuePayload.parse(bullJob.data);
    const job = await loadJob(db, jobId).catch(waitOut);
    if (!job) {
      logger.warn('job not in the database (its project was deleted?); dropped', { jobId });
      return 'missing';
    }
    if (isFinished(job.status)) return 'already_finished';
    if (job.cancelRequestedAt) return cancelBeforeStart(job).catch(waitOut);
    // Not its turn (see loadJob: checked before the lock, which saves taking and releasing it).
    if (job.olderUnfinishedId) return redeliverLater(entry, config.PROJECT_BUSY_RETRY_MS);

    // lock
    const lock = await locks.acquire(job.projectId, job.id);
    if (!lock) return redeliverLater(entry, config.PROJECT_BUSY_RETRY_MS);
    // Registered before the job is marked in_progress, so that a cancel sent from then on finds it.
    const controller = running.add(job.id);
    try {
      lock.onLost(() => controller.abort(new JobAbort('lock_lost')));
      // start
      const started = await startJob(db, job.id).catch(waitOut);
      if (started.kind === 'refused') return await startRefused(job).catch(waitOut);
      // Read with the job when it was its turn (loadJob); otherwise now.
      const recorded = job.startContext ? Promise.resolve(job.startContext.recorded) : recordedWorkspaceOf(db, job);
      recorded.catch(() => undefined); // awaited when the workspace is checked
      const workspace = projectWorkspace(config.workspaceRoot, job.projectId);
      const attempt = { entry, job, attempt: started.attempt, controller, lock, workspace, recorded };
      const { result, nextQueuedId } = await runAttempt(attempt);
      if (nextQueuedId) void wakeNext(job.projectId, nextQueuedId);
      return result;
    } finally {
      running.remove(job.id);
      await lock.release();
    }
  };

  /**
   * prepare · run · check · commit · finish, for an attempt that holds the lock and has started;
   * with the project's next queued job when it finished (to wake it).
   */
  async function runAttempt(a: Attempt): Promise<{ result: ProcessResult; nextQueuedId?: string | null }> {
    const { job, attempt } = a;
    // The request's history is read from Postgres meanwhile (unused when an outcome was kept).
    const requested = buildRequest(job);
    requested.catch(() => undefined); // awaited below, unless an earlier step throws
    const { workspace } = a;
    let log: JobLog;
    try {
      log = openJobLog(workspace, job.id, logger, config.JOB_LOG_MAX_BYTES);
    } catch (err) {
      return { result: await afterFailedAttempt(err, { ...a, log: NO_LOG, rollBack: () => rollBack(a, NO_LOG) }) };
    }
    try {
      log.step(`attempt ${attempt} of job ${job.id} (${job.jobType}) started on runner ${deps.runnerId}`);
      const kept = readRecordedOutcome(config.workspaceRoot, job.id);
      if (kept)
        log.step(`an earlier attempt finished the job (${kept.status}) but could not record it; recording it now`);
      const outcome = kept ? { ...kept, attempt } : await runAgent(a, await requested, workspace, log);
      return await finish(job, outcome, kept !== null, log);
    } catch (err) {
      return { result: await afterFailedAttempt(err, { ...a, log, rollBack: () => rollBack(a, log) }) };
    } finally {
      log.close();
    }
  }

  /** Throws (and stops the attempt) unless the project's lock is certainly still this attempt's. */
  function ensureLockFresh(a: Attempt, before: string): void {
    if (a.lock.isFresh()) return;
    a.controller.abort(new JobAbort('lock_lost'));
    throw new InfrastructureError(`the project lock was lost before ${before}`);
  }

  /** prepare: the workspace as the history recorded it; true when that changed it. */
  async function restore(a: Attempt, log: JobLog, snapshot: Snapshot): Promise<boolean> {
    ensureLockFresh(a, 'the workspace was checked');
    const recorded = await a.recorded;
    return (
      (await restoreRecordedWorkspace({
        workspaceRoot: config.workspaceRoot,
        projectId: a.job.projectId,
        workspace: a.workspace,
        recorded,
        snapshot,
        ignore: config.HISTORY_IGNORE,
        log: (line) => log.step(line),
      })) === 'restored'
    );
  }

  /**
   * Undoes what a job that ends in error without its changes left (the disk full, the last attempt
   * failed); false when it could not. Never when the lock is no longer this attempt's: the
   * workspace is another runner's then.
   */
  async function rollBack(a: Attempt, log: JobLog): Promise<boolean> {
    if (!a.lock.isFresh()) {
      log.step('the project lock was lost: the workspace is left to the runner that holds it now');
      return false;
    }
    try {
      const done = await restoreRecordedWorkspace({
        workspaceRoot: config.workspaceRoot,
        projectId: a.job.projectId,
        workspace: a.workspace,
        recorded: await a.recorded,
        ignore: config.HISTORY_IGNORE,
        log: (line) => log.step(line),
      });
      return done !== 'unchecked';
    } catch (err) {
      log.step(`could not undo the job’s changes (the next job will): ${describeError(err)}`);
      logger.warn('could not undo a failed job’s changes', { jobId: a.job.id, error: describeError(err) });
      return false;
    }
  }

  /**
   * A project created from existing code brings it in first (import-step.ts): an outcome when that
   * failed or was cancelled, null when the agent may run (on the imported code).
   */
  async function importFirst(a: Attempt, log: JobLog): Promise<JobOutcome | null> {
    let imported;
    try {
      imported = await runImportStep({
        config,
        db,
        job: a.job,
        workspace: a.workspace,
        log,
        signal: a.controller.signal,
        ensureLockFresh: (before) => ensureLockFresh(a, before),
      });
    } catch (err) {
      const reason = abortReasonOf(a.controller.signal);
      if (reason === 'shutdown') throw new RunnerStopping();
      if (reason === 'lock_lost')
        throw new InfrastructureError('the project lock was lost while the source was imported');
      if (reason === 'cancel') {
        log.step('stopped: cancelled on request while the source was imported');
        return { ...outcomeWithoutRun('cancelled', 'Cancelled on request.', [], 'cancelled'), attempt: a.attempt };
      }
      throw err;
    }
    if (imported.kind === 'failed')
      return { ...outcomeWithoutRun('error', null, [imported.message], imported.code), attempt: a.attempt };
    // The workspace is now as the import commit holds it: what the attempt starts from.
    if (imported.kind === 'imported')
      a.recorded = Promise.resolve({ kind: 'commit', sha: imported.commit, jobId: null });
    return null;
  }

  /** (import) · prepare · run · check (executeJob), then commit. */
  async function runAgent(a: Attempt, request: WorkerRequest, workspace: string, log: JobLog): Promise<JobOutcome> {
    const importOutcome = await importFirst(a, log);
    if (importOutcome) return importOutcome;
    // Preparing writes .codex/request.json (and moves result.json), which the agent of the job that
    // holds the lock now may be about to read: a runner frozen while the request was read from
    // Postgres must not write them when it wakes. executeJob prepares in this same tick.
    ensureLockFresh(a, 'the workspace was prepared');
    const executed =
      a.job.jobType === 'revert'
        ? await runRevert(a, request, log)
        : await executeJob({
            config,
            executor: deps.executor,
            workspace,
            request,
            attempt: a.attempt,
            log,
            controller: a.controller,
            mayChangeWorkspace: () => {
              if (a.lock.isFresh()) return true;
              a.controller.abort(new JobAbort('lock_lost'));
              return false;
            },
            restore: (snapshot) => restore(a, log, snapshot),
            statIndex: () => loadStatIndex(projectHistoryDir(config.workspaceRoot, a.job.projectId), workspace),
          });
    // Nothing half-written is kept of a job that failed for lack of space.
    if (executed.diskFull) return withoutChanges(a, executed.outcome, log);
    ensureLockFresh(a, 'the job’s changes were committed');
    const commitSha = await commitJobChanges({
      config,
      job: a.job,
      workspace,
      log,
      logger,
      snapshot: executed.after ?? undefined,
    });
    const outcome = { ...executed.outcome, commit_sha: commitSha };
    // Its changes are in the workspace but could not be recorded in the history: the job has not
    // really completed.
    if (commitSha === null && outcome.status === 'completed' && diskIsFull(config.workspaceRoot)) {
      return withoutChanges(
        a,
        {
          ...outcome,
          status: 'error',
          errors: [diskFullError('the job’s changes could not be committed to the project history')],
          error_code: 'disk_full',
        },
        log,
      );
    }
    return outcome;
  }

  /** A revert runs in place of the agent (revert-step.ts), on the workspace as the history recorded it. */
  async function runRevert(a: Attempt, request: WorkerRequest, log: JobLog) {
    return runRevertStep({
      config,
      executor: deps.executor,
      job: a.job,
      workspace: a.workspace,
      request,
      attempt: a.attempt,
      log,
      signal: a.controller.signal,
      recorded: await a.recorded,
      restore: (snapshot) => restore(a, log, snapshot),
      ensureLockFresh: (before) => ensureLockFresh(a, before),
      statIndex: () => loadStatIndex(projectHistoryDir(config.workspaceRoot, a.job.projectId), a.workspace),
    });
  }

  /** An outcome in error whose changes are undone (rolled back to the recorded workspace). */
  async function withoutChanges(a: Attempt, outcome: JobOutcome, log: JobLog): Promise<JobOutcome> {
    if (!(await rollBack(a, log))) return outcome;
    log.step('the job’s changes were undone: the workspace is as the project’s last finished job left it');
    return { ...outcome, created_files: [], modified_files: [], deleted_files: [], commit_sha: null };
  }

  async function finish(
    job: RunnableJob,
    outcome: JobOutcome,
    wasKept: boolean,
    log: JobLog,
  ): Promise<{ result: ProcessResult; nextQueuedId: string | null }> {
    // The last line is in the file before the status says finished (see JobLog.flush).
    log.step(`finished: ${outcome.status}${outcome.errors.length ? ` (${outcome.errors.join('; ')})` : ''}`);
    log.flush();
    const { written, nextQueuedId } = await writeOutcome(deps, job.id, outcome, wasKept);
    if (written === 'superseded') {
      log.step('the job was finished or taken over elsewhere meanwhile; this attempt’s outcome is discarded');
      return { result: 'finished_elsewhere', nextQueuedId: null };
    }
    logger.info('job finished', {
      jobId: job.id,
      projectId: job.projectId,
      status: outcome.status,
      attempt: outcome.attempt,
    });
    return { result: outcome.status, nextQueuedId };
  }

  async function buildRequest(job: RunnableJob): Promise<WorkerRequest> {
    const { history, threadId } = job.startContext ?? (await jobContext(db, job));
    const request: WorkerRequest = {
      project_id: job.projectId,
      job_id: job.id,
      job_type: job.jobType,
      instruction: job.instruction,
      history,
      checks: job.checks,
      fix_attempts: job.fixAttempts,
    };
    return threadId ? { ...request, thread_id: threadId } : request;
  }

  /** The start was refused: finished elsewhere, or a cancel was requested since the job was loaded. */
  async function startRefused(job: RunnableJob): Promise<ProcessResult> {
    const now = await loadJob(db, job.id);
    return now && !isFinished(now.status) && now.cancelRequestedAt ? cancelBeforeStart(now) : 'finished_elsewhere';
  }

  /** A job whose cancel was requested before it ran (the API normally ends queued ones itself). */
  async function cancelBeforeStart(job: RunnableJob): Promise<ProcessResult> {
    if ((await cancelUnstartedJob(db, job.id)) === 'refused') return 'finished_elsewhere';
    clearRecordedOutcome(config.workspaceRoot, job.id);
    logger.info('job cancelled before it started', { jobId: job.id });
    return 'cancelled';
  }

  /**
   * Lets the project's next job start now rather than when its delay runs out. Only an
   * optimisation: the next job would also find its turn on its own. Usually it is waiting in the
   * queue, not delayed: one look at its state (one Redis call) is all it costs then.
   */
  async function wakeNext(projectId: string, next: string): Promise<void> {
    if (!deps.queue) return;
    try {
      // If a runner is looking at it right now, it may be about to put it back for a while: look
      // again shortly after.
      for (const pause of [0, 100, 300]) {
        if (pause) await sleep(pause);
        const state = await deps.queue.getJobState(next);
        if (state === 'delayed') return void (await (await deps.queue.getJob(next))?.promote());
        if (state !== 'active') return;
      }
    } catch (err) {
      logger.debug('could not wake the project’s next job', { projectId, error: describeError(err) });
    }
  }
}
