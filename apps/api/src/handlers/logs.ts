import type { LogQuery } from '@cwo/contracts';
import { InvalidPathError } from '@cwo/workspace';
import { findJobStatus } from '@cwo/jobs';
import { badRequest } from '../http/errors';
import { empty, events, stream, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import type { FollowSource } from '../logs/follow-log';
import { openJobLog, openLogReader, watchJobLog } from '../logs/log-file';
import { workspaceOf } from '../workspace-dirs';
import { requireJob } from './lookups';

const OFFSET_HEADER = 'X-Log-Offset';
const STATUS_HEADER = 'X-Job-Status';

/** A sane Last-Event-ID (a byte offset we sent earlier), or undefined. */
function lastEventOffset(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

const wantsEventStream = (accept: string | undefined): boolean => /\btext\/event-stream\b/.test(accept ?? '');

/**
 * GET …/jobs/{jobId}/logs. By default the log from `offset` to its current end as text/plain,
 * with the next offset in X-Log-Offset and the job status in X-Job-Status (poll with the offset).
 * With `follow=1` (or Accept: text/event-stream) a server-sent event stream until the job ends;
 * Last-Event-ID resumes it. A job without a log yet has an empty log, not a 404.
 */
export async function readJobLog({
  deps,
  params,
  query,
  headers,
  signal,
  principal,
}: RequestContext<unknown, LogQuery>): Promise<Reply> {
  const job = await requireJob(deps, principal.userId, params.projectId!, params.jobId!);
  const workspace = workspaceOf(deps.config, job.projectId);
  const offset = lastEventOffset(headers['last-event-id']) ?? query.offset;

  let log;
  try {
    log = await openJobLog(workspace, job.id);
  } catch (err) {
    if (err instanceof InvalidPathError) throw badRequest('Invalid path');
    throw err;
  }
  const size = log?.size ?? 0;
  const start = Math.min(offset, size);

  if (query.follow || wantsEventStream(headers.accept)) {
    await log?.handle.close().catch(() => undefined);
    // From `start`, not past the end: every offset a tail and its followers hold is one the
    // file has reached, as any id this API sent is.
    const source: FollowSource = {
      openLog: () => openLogReader(workspace, job.id),
      jobStatus: () => findJobStatus(deps.db, principal.userId, job.id),
      watch: (onChange, onLost) => watchJobLog(workspace, job.id, onChange, onLost),
    };
    return events(
      200,
      {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no', // nginx: do not buffer the stream
      },
      (response) => deps.logFollowers.follow(job.id, source, start, response, signal),
    );
  }

  const headersOut = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(size - start),
    'Cache-Control': 'no-store',
    [OFFSET_HEADER]: String(size),
    [STATUS_HEADER]: job.status,
  };
  if (!log || start === size) {
    await log?.handle.close().catch(() => undefined);
    return empty(200, headersOut);
  }
  return stream(200, headersOut, log.handle.createReadStream({ start, end: size - 1 }));
}
