import fs from 'node:fs';
import { redactString, type Logger } from '@cwo/logger';
import { relativeJobLogPath } from '@cwo/workspace';
import { openForAppend } from './safe-fs';

// A job's log (.codex/jobs/<jobId>/job.log): the runner's steps and the agent's output, one line
// each with an ISO timestamp and its source, appended as they happen so that the API can serve
// and follow the file while the job runs. Nothing is kept in memory beyond one turn's lines.

/** Longest line kept; a runaway line is cut rather than filling the disk in one write. */
const MAX_LINE_CHARS = 16 * 1024;

export interface JobLog {
  /** A step of the runner. */
  step(message: string): void;
  /** A line of the executor's output. */
  agent(line: string): void;
  /**
   * Writes every line so far to the file. Called before the job's final status is written: the
   * API ends a log stream on that status, and must find the last lines there.
   */
  flush(): void;
  /** Flushes and closes the file. */
  close(): void;
}

function format(source: 'runner' | 'agent', text: string): string {
  const now = new Date().toISOString();
  return text
    .split(/\r?\n/)
    .filter((line, i, all) => line !== '' || all.length === 1)
    .map((line) => {
      const clean = redactString(line);
      const cut = clean.length > MAX_LINE_CHARS ? `${clean.slice(0, MAX_LINE_CHARS)} …[line cut]` : clean;
      return `${now} [${source}] ${cut}\n`;
    })
    .join('');
}

/** JOB_LOG_MAX_BYTES's default (packages/config). */
export const DEFAULT_JOB_LOG_MAX_BYTES = 8 * 1024 * 1024;

/**
 * `maxBytes` caps what the agent's output may add to the file (counted from its size when opened,
 * so over every attempt): untrusted output must not fill the disk within its time limit. The
 * runner's own lines, a few dozen an attempt, are still written after it, so the log keeps its end.
 */
export function openJobLog(
  workspace: string,
  jobId: string,
  logger: Logger,
  maxBytes = DEFAULT_JOB_LOG_MAX_BYTES,
): JobLog {
  const fd = openForAppend(workspace, relativeJobLogPath(jobId));
  let size = fs.fstatSync(fd).size;
  let full = false;
  // Lines are gathered during one turn of the event loop and appended in one synchronous write
  // right after it: a few microseconds, where a write through the thread pool costs tens (see
  // safe-fs.ts), and an agent printing fast makes few writes.
  let pending: string[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  let closed = false;
  let failed = false;
  const writeOut = () => {
    scheduled = false;
    if (pending.length === 0 || closed) return;
    const data = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingBytes = 0;
    if (failed) return;
    size += data.length;
    try {
      for (let done = 0; done < data.length;) done += fs.writeSync(fd, data, done, data.length - done);
    } catch (err) {
      // A full disk must not fail the job; the process log says why the job log stopped.
      failed = true;
      logger.error('job log write failed', { jobId, error: err });
    }
  };
  const push = (lines: string) => {
    pending.push(lines);
    pendingBytes += Buffer.byteLength(lines);
    if (!scheduled) {
      scheduled = true;
      setImmediate(writeOut);
    }
  };
  const write = (source: 'runner' | 'agent', text: string) => {
    if (closed || failed) return;
    const lines = format(source, text);
    if (source === 'agent' && (full || size + pendingBytes + Buffer.byteLength(lines) > maxBytes)) {
      if (!full)
        push(
          format(
            'runner',
            `the log reached JOB_LOG_MAX_BYTES (${maxBytes} bytes): the agent's further output is not kept`,
          ),
        );
      full = true;
      return;
    }
    push(lines);
  };
  return {
    step: (message) => write('runner', message),
    agent: (line) => write('agent', line),
    flush: writeOut,
    close: () => {
      if (closed) return;
      writeOut();
      closed = true;
      fs.closeSync(fd);
    },
  };
}
