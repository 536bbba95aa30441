// The webhook outbox (docs/webhooks.md): a transition that changes a job's status records the
// event of its new state in the same statement, through record_job_event (migration
// 20261201130000_webhooks), so that no event is lost when a process dies between the change and
// its announcement. The function writes nothing when none of the owner's endpoints subscribes.
// The runners' relay moves what it records onto the webhooks queue (packages/webhooks).

/** The call, for a statement whose CTE `row` returns the job's whole new row (`RETURNING *`). */
export const recordJobEvent = (row: string): string => `record_job_event(${row}::jobs)`;

/**
 * The call recording `project.deleted` for a statement whose CTE `row` returns the deleted project
 * (`RETURNING *`); `stoppedJobs` is the SQL of a JSON array of the jobs that were unfinished.
 */
export const recordProjectDeleted = (row: string, stoppedJobs: string): string =>
  `CASE WHEN webhook_subscribed(${row}.owner_id, 'project.deleted')
        THEN record_webhook_event('project.deleted', ${row}.owner_id, ${row}.id, NULL,
               jsonb_build_object('project', to_jsonb(${row}), 'stopped_jobs', ${stoppedJobs}))
        ELSE 0 END`;
