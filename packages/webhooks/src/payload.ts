import type {
  CheckResults,
  DiffStats,
  Status,
  WebhookJobData,
  WebhookPayload,
  WebhookProjectDeletedData,
} from '@cwo/contracts';
import { commitDiffStats } from '@cwo/history';
import { jobFromJson, projectFromJson, toJobDetail, toProjectSummary } from '@cwo/jobs';
import type { AttemptContext } from './delivery-records';

// The body a receiver gets, `{type, timestamp, data}`, from the rows the transition recorded with
// the event (the job's row as it was then; for project.deleted the project and its stopped jobs),
// serialized as the API serializes them. Built once per event: every delivery and attempt of it
// sends the same bytes under the same webhook-id.

const FINISHED_EVENTS = new Set(['job.completed', 'job.failed', 'job.cancelled']);

/**
 * How much of each check's output a webhook carries (its end): a job's every round at the full
 * 64 KB could make a body of megabytes. The job detail has all of it.
 */
export const WEBHOOK_CHECK_OUTPUT_CHARS = 4096;

function shortenOutputs(checks: CheckResults | null): CheckResults | null {
  if (!checks) return null;
  return {
    ...checks,
    rounds: checks.rounds.map((round) => ({
      ...round,
      results: round.results.map((r) =>
        r.output.length <= WEBHOOK_CHECK_OUTPUT_CHARS
          ? r
          : { ...r, output: r.output.slice(-WEBHOOK_CHECK_OUTPUT_CHARS), output_truncated: true },
      ),
    })),
  };
}

async function jobData(
  ctx: Pick<AttemptContext, 'eventType' | 'data'>,
  workspaceRoot: string,
): Promise<WebhookJobData> {
  const job = jobFromJson(ctx.data);
  // queue_position is not sent: it would be stale on arrival.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- taken out of the rest
  const { queue_position, ...detail } = toJobDetail(job);
  let diff: DiffStats | null = null;
  if (FINISHED_EVENTS.has(ctx.eventType) && job.commitSha) {
    // The history is gone when the project was deleted since: no stats then.
    const stats = await commitDiffStats({ workspaceRoot, projectId: job.projectId, sha: job.commitSha });
    if (stats) diff = { files_changed: stats.filesChanged, insertions: stats.insertions, deletions: stats.deletions };
  }
  return { ...detail, check_results: shortenOutputs(detail.check_results), diff_stats: diff };
}

function projectDeletedData(ctx: Pick<AttemptContext, 'data'>): WebhookProjectDeletedData {
  const { project, stopped_jobs } = ctx.data as {
    project: Record<string, unknown>;
    stopped_jobs: Array<{ id: string; status: Status }>;
  };
  return { ...toProjectSummary(projectFromJson(project)), stopped_jobs };
}

export async function buildPayload(
  ctx: Pick<AttemptContext, 'eventType' | 'eventAt' | 'data'>,
  workspaceRoot: string,
): Promise<WebhookPayload> {
  const timestamp = ctx.eventAt.toISOString();
  if (ctx.eventType === 'project.deleted') {
    return { type: 'project.deleted', timestamp, data: projectDeletedData(ctx) };
  }
  return {
    type: ctx.eventType as Exclude<WebhookPayload['type'], 'project.deleted'>,
    timestamp,
    data: await jobData(ctx, workspaceRoot),
  };
}
