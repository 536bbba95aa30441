-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "egress" JSONB;
