-- Checks (docs/checks.md): a project's defaults for its jobs, a job's own (fixed when it is
-- created), and what they found on the job.
-- AlterTable
ALTER TABLE "projects" ADD COLUMN     "checks" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "fix_attempts" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "check_results" JSONB,
ADD COLUMN     "checks" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "fix_attempts" INTEGER NOT NULL DEFAULT 0;
