import type { Writable } from 'node:stream';
import { redactString, type Logger } from '@cwo/logger';
import { relativeJobLogPath } from '@cwo/workspace';
import { openForAppend } from './safe-fs';

// A job's log (.codex/jobs/<jobId>/job.log): the runner's steps and the agent's output, one line
// each with an ISO timestamp and its source, appended as they happen so that the API can serve
// and follow the file while the job runs. Nothing is kept in memory beyond the stream's queue.

/** Longest line kept; a runaway line is cut rather than filling the disk in one write. */
const MAX_LINE_CHARS = 16 * 1024;

export interface JobLog {
  /** A step of the runner. */
  step(message: string): void;
  /** A line of the executor's output. */
  agent(line: string): void;
  /**
   * Resolves once every line written so far is in the file. Called before the job's final status
   * is written: the API ends a log stream on that status, and must find the last lines there.
   */
  flush(): Promise<void>;
  /** Flushes and closes the file. */
  close(): Promise<void>;
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

export async function openJobLog(workspace: string, jobId: string, logger: Logger): Promise<JobLog> {
  const handle = await openForAppend(workspace, relativeJobLogPath(jobId));
  const stream: Writable = handle.createWriteStream({ encoding: 'utf8' });
  let failed = false;
  stream.on('error', (err) => {
    // A full disk must not fail the job; the process log says why the job log stopped.
    if (!failed) logger.error('job log write failed', { jobId, error: err.message });
    failed = true;
  });
  // Writes complete in order, so the last one's callback marks everything before it as written.
  let lastWrite: Promise<void> = Promise.resolve();
  const write = (source: 'runner' | 'agent', text: string) => {
    if (failed || stream.destroyed || stream.writableEnded) return;
    lastWrite = new Promise<void>((resolve) => stream.write(format(source, text), () => resolve()));
  };
  return {
    step: (message) => write('runner', message),
    agent: (line) => write('agent', line),
    flush: () => lastWrite,
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.destroyed || stream.writableEnded) return resolve();
        stream.end(() => resolve());
        stream.once('error', () => resolve());
      }),
  };
}
