-- The one derivation of a project's status from its jobs (see packages/jobs, project-status.ts).
-- Every transition that changes a job's status calls refresh_project_status in the same statement.
--
-- It locks the project row first, and only then reads the jobs: in a VOLATILE function each query
-- takes a fresh snapshot, so the read sees every job change committed by the writers that held the
-- lock before, and the last writer to take the lock derives from all of them. So a job finishing
-- while another job of the project is created cannot leave the project "completed" with a job
-- queued. (PL/pgSQL: its plans are kept per connection.)
--
-- The rule: a running job makes the project in_progress, else a queued one queued, else it takes
-- the status of its latest job that was not cancelled (cancelled if all were). The project's
-- summary becomes latest_summary when that is not empty.
CREATE FUNCTION refresh_project_status(project uuid, latest_summary text DEFAULT NULL) RETURNS "Status"
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  derived "Status";
BEGIN
  PERFORM 1 FROM projects WHERE id = project FOR UPDATE;
  SELECT (CASE
      WHEN EXISTS (SELECT 1 FROM jobs WHERE project_id = project AND status = 'in_progress') THEN 'in_progress'
      WHEN EXISTS (SELECT 1 FROM jobs WHERE project_id = project AND status = 'queued') THEN 'queued'
      ELSE COALESCE(
        (SELECT status::text FROM jobs WHERE project_id = project AND status <> 'cancelled' ORDER BY seq DESC LIMIT 1),
        'cancelled')
    END)::"Status"
    INTO derived;
  UPDATE projects
     SET status = derived, summary = COALESCE(NULLIF(latest_summary, ''), summary), updated_at = now()
   WHERE id = project
     AND (status <> derived OR (NULLIF(latest_summary, '') IS NOT NULL AND summary IS DISTINCT FROM latest_summary));
  RETURN derived;
END
$$;
