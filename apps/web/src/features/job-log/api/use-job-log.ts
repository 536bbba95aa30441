import { useEffect, useState } from 'react';
import { API_PREFIX } from '../../../lib/api-client';
import { StatusSchemaForLog } from './end-status';

export type LogConnection = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

export interface JobLog {
  /**
   * Every line so far, appended in place: a copy per event would cost O(n²) over 100,000 lines.
   * `count` is what changes, and what a render reads.
   */
  lines: readonly string[];
  /** How many lines to show: set at most once per frame, however fast lines arrive. */
  count: number;
  connection: LogConnection;
  /** The job's status when the stream ended. */
  endStatus: string | undefined;
}

export const jobLogUrl = (projectId: string, jobId: string) =>
  `${API_PREFIX}/projects/${encodeURIComponent(projectId)}/jobs/${encodeURIComponent(jobId)}/logs?follow=1`;

/**
 * A job's log, followed live over server-sent events (GET …/logs?follow=1) until the job ends.
 * A dropped connection is resumed by EventSource itself, which sends the last event's id (a byte
 * offset) as Last-Event-ID, so nothing is lost or repeated. One job per mounted component: give
 * the component a `key` of the job id.
 */
export function useJobLog(projectId: string, jobId: string): JobLog {
  const [lines] = useState<string[]>(() => []);
  const [count, setCount] = useState(0);
  const [connection, setConnection] = useState<LogConnection>('connecting');
  const [endStatus, setEndStatus] = useState<string | undefined>(undefined);

  useEffect(() => {
    let frame = 0;
    const flush = () => {
      frame = 0;
      setCount(lines.length);
    };
    const source = new EventSource(jobLogUrl(projectId, jobId));
    source.addEventListener('open', () => setConnection('live'));
    source.addEventListener('log', (event) => {
      for (const line of (event as MessageEvent<string>).data.split('\n')) lines.push(line);
      if (frame === 0) frame = requestAnimationFrame(flush);
    });
    source.addEventListener('end', (event) => {
      source.close();
      const parsed = StatusSchemaForLog.safeParse(JSON.parse((event as MessageEvent<string>).data));
      setEndStatus(parsed.data?.status);
      setConnection('ended');
      cancelAnimationFrame(frame);
      flush();
    });
    source.addEventListener('error', () => {
      // CONNECTING: EventSource is reconnecting by itself; CLOSED: the API refused the stream.
      if (source.readyState === EventSource.CLOSED) setConnection('failed');
      else setConnection((c) => (c === 'ended' ? c : 'reconnecting'));
    });
    return () => {
      source.close();
      cancelAnimationFrame(frame);
    };
  }, [projectId, jobId, lines]);

  return { lines, count, connection, endStatus };
}
