-- Where a project's code came from (docs/code-io.md) and the history's "import" commit.
-- AlterTable
ALTER TABLE "projects" ADD COLUMN     "import_commit" TEXT,
ADD COLUMN     "source" JSONB;
