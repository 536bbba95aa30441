-- A finished job's error code (packages/contracts, outcomes.ts): text, so that a new code needs no
-- migration. The transitions set it where the outcome is decided.
ALTER TABLE "jobs" ADD COLUMN     "error_code" TEXT;

-- Jobs that finished before this migration: their code from what the runner wrote then (these
-- exact texts), agent_error for any other failure. Only this once, for rows without a code.
UPDATE "jobs" SET "error_code" = CASE
    WHEN "status" = 'cancelled' THEN 'cancelled'
    WHEN 'timeout' = ANY ("errors") THEN 'timeout'
    WHEN 'forced_error' = ANY ("errors") THEN 'forced_error'
    WHEN EXISTS (SELECT 1 FROM unnest("errors") e WHERE e LIKE 'the workspace disk is full%') THEN 'disk_full'
    WHEN EXISTS (SELECT 1 FROM unnest("errors") e WHERE e LIKE 'infrastructure error:%' OR e = 'runner lost the job') THEN 'infrastructure'
    ELSE 'agent_error'
  END
 WHERE "status" IN ('error', 'cancelled');

-- Every job that ended without completing has a code, and no other job has one.
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_error_code_when_failed"
  CHECK (("error_code" IS NOT NULL) = ("status" IN ('error', 'cancelled')));

-- queue_position counts the unfinished jobs created before a queued one: this index holds only
-- those jobs, so the count reads no finished ones (Prisma's schema cannot express a partial index).
CREATE INDEX "jobs_unfinished_seq_idx" ON "jobs" ("seq") WHERE "status" IN ('queued', 'in_progress');
CREATE INDEX "jobs_unfinished_project_seq_idx" ON "jobs" ("project_id", "seq") WHERE "status" IN ('queued', 'in_progress');
