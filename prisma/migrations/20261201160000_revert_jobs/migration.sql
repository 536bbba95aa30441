-- Undo: a job of type revert undoes an earlier job of its project (docs/code-io.md).
-- AlterEnum
ALTER TYPE "JobType" ADD VALUE 'revert';

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "reverts_job_id" UUID;
