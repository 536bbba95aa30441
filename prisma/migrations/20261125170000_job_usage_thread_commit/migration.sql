-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "cached_input_tokens" INTEGER,
ADD COLUMN     "commit_sha" TEXT,
ADD COLUMN     "input_tokens" INTEGER,
ADD COLUMN     "output_tokens" INTEGER,
ADD COLUMN     "thread_id" TEXT;

