-- A job is undone once: at most one revert of a job may be queued, running or completed (one that
-- ended in error or was cancelled does not count, so the job can be undone again). The index is
-- what keeps two concurrent requests from both writing one (createRevertJob, ON CONFLICT); Prisma's
-- schema cannot express a partial index. A database that already has two such reverts of one job
-- fails here: cancel the later one, then migrate again.
CREATE UNIQUE INDEX "jobs_one_live_revert_idx" ON "jobs" ("reverts_job_id")
  WHERE "status" IN ('queued', 'in_progress', 'completed');
