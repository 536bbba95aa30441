import type { Config } from '@cwo/config';
import type { Db } from '@cwo/db';
import { finishJobFindingNext, type FinishResult } from '@cwo/jobs';
import type { Logger } from '@cwo/logger';
import { describeError } from './describe-error';
import { clearRecordedOutcome, recordOutcome, type JobOutcome } from './outcome';

// The last step of a job: its outcome written to Postgres (finishJob). When Postgres refuses it,
// or is slow to take it, the outcome is also kept on disk (outcome.ts), so that a retry (or another
// runner, if this one dies meanwhile) writes it instead of running the agent again, which would,
// e.g., append an edit twice. Not before every write: file creation is a job's dearest cost on
// these disks, and a write that ends within OUTCOME_KEEP_AFTER_MS leaves only that long for a
// crash to cost a second run.

/** How long the final database write may take before the outcome is also kept on disk. */
const OUTCOME_KEEP_AFTER_MS = 250;

/**
 * Writes the outcome of `attempt` (written: 'superseded' when the job was finished or taken over
 * elsewhere meanwhile), with the project's next queued job. Throws when Postgres refused it, after keeping it on disk. `wasKept`: the outcome
 * came from disk (an earlier attempt kept it), so the record is removed once written.
 */
export async function writeOutcome(
  deps: { db: Db; config: Pick<Config, 'workspaceRoot'>; logger: Logger },
  jobId: string,
  outcome: JobOutcome,
  wasKept: boolean,
): Promise<FinishResult> {
  const { db, config, logger } = deps;
  let kept = false;
  const keep = () => {
    if (kept) return;
    kept = true;
    recordOutcome(config.workspaceRoot, jobId, outcome);
  };
  const slow = setTimeout(() => {
    try {
      keep();
    } catch (err) {
      logger.warn('could not keep the job’s outcome on disk', { jobId, error: describeError(err) });
    }
  }, OUTCOME_KEEP_AFTER_MS);
  let written: FinishResult;
  try {
    written = await finishJobFindingNext(db, jobId, outcome.attempt, outcome);
  } catch (err) {
    keep();
    throw err;
  } finally {
    clearTimeout(slow);
  }
  if (wasKept || kept) clearRecordedOutcome(config.workspaceRoot, jobId);
  return written;
}
