-- The one derivation of a project's status from its jobs (see packages/jobs, project-status.ts).
-- Every transition that changes a job's status calls refresh_project_status in the same statement.
--
-- It locks the project row first (lock_project), and only then reads the jobs and writes the
-- status (write_project_status): a VOLATILE function's query takes a fresh snapshot, so the read
-- sees every job change committed by the writers that held the lock before, and the last writer
-- to take the lock derives from all of them. So a job finishing while another job of the project
-- is created cannot leave the project "completed" with a job queued.
-- (Single-statement SQL functions: the migration runner splits scripts at semicolons.)
--
-- The rule: a running job makes the project in_progress, else a queued one queued, else it takes
-- the status of its latest job that was not cancelled (cancelled if all were). The project's
-- summary becomes latest_summary when that is not empty.

CREATE FUNCTION lock_project(project uuid) RETURNS uuid
LANGUAGE sql VOLATILE AS $$
  SELECT id FROM projects WHERE id = project FOR UPDATE
$$;

CREATE FUNCTION write_project_status(project uuid, latest_summary text) RETURNS "Status"
LANGUAGE sql VOLATILE AS $$
  WITH derived AS (
    SELECT (CASE
      WHEN EXISTS (SELECT 1 FROM jobs WHERE project_id = project AND status = 'in_progress') THEN 'in_progress'
      WHEN EXISTS (SELECT 1 FROM jobs WHERE project_id = project AND status = 'queued') THEN 'queued'
      ELSE COALESCE(
        (SELECT status::text FROM jobs WHERE project_id = project AND status <> 'cancelled' ORDER BY seq DESC LIMIT 1),
        'cancelled')
    END)::"Status" AS status
  )
  UPDATE projects
     SET status = derived.status, summary = COALESCE(NULLIF(latest_summary, ''), projects.summary), updated_at = now()
    FROM derived
   WHERE projects.id = project
     AND (projects.status <> derived.status
          OR (NULLIF(latest_summary, '') IS NOT NULL AND projects.summary IS DISTINCT FROM latest_summary))
  RETURNING projects.status
$$;

-- The arguments are evaluated before the call: the lock is held before write_project_status reads.
CREATE FUNCTION refresh_project_status(project uuid, latest_summary text DEFAULT NULL) RETURNS "Status"
LANGUAGE sql VOLATILE AS $$
  SELECT write_project_status(lock_project(project), latest_summary)
$$;
