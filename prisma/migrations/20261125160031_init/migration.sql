-- CreateEnum
CREATE TYPE "Status" AS ENUM ('queued', 'in_progress', 'completed', 'error', 'cancelled');

-- CreateEnum
CREATE TYPE "JobType" AS ENUM ('initial_project', 'edit');

-- CreateTable
CREATE TABLE "projects" (
    "id" UUID NOT NULL,
    "instruction" TEXT NOT NULL,
    "status" "Status" NOT NULL DEFAULT 'queued',
    "summary" TEXT,
    "workspace_path" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "project_id" UUID NOT NULL,
    "job_type" "JobType" NOT NULL,
    "instruction" TEXT NOT NULL,
    "status" "Status" NOT NULL DEFAULT 'queued',
    "summary" TEXT,
    "created_files" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "modified_files" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "deleted_files" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "errors" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "result_path" TEXT,
    "logs_path" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "cancel_requested_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "projects_created_at_id_idx" ON "projects"("created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "jobs_project_id_seq_idx" ON "jobs"("project_id", "seq");

-- CreateIndex
CREATE INDEX "jobs_status_created_at_idx" ON "jobs"("status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "jobs_seq_key" ON "jobs"("seq");

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

