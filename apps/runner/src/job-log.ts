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

export function openJobLog(workspace: string, jobId: string, logger: Logger): JobLog {
  const fd = openForAppend(workspace, relativeJobLogPath(jobId));
  // Lines are gathered during one turn of the event loop and appended in one synchronous write
  // right after it: a few microseconds, where a write through the thread pool costs tens (see
  // safe-fs.ts), and an agent printing fast makes few writes.
  let pending: string[] = [];
  let scheduled = false;
  let closed = false;
  let failed = false;
  const writeOut = () => {
    scheduled = false;
    if (pending.length === 0 || closed) return;
    const data = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    if (failed) return;
    try {
      for (let done = 0; done < data.length;) done += fs.writeSync(fd, data, done, data.length - done);
    } catch (err) {
      // A full disk must not fail the job; the process log says why the job log stopped.
      failed = true;
      logger.error('job log write failed', { jobId, error: err });
    }
  };
  const write = (source: 'runner' | 'agent', text: string) => {
    if (closed || failed) return;
    pending.push(format(source, text));
    if (!scheduled) {
      scheduled = true;
      setImmediate(writeOut);
    }
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
