import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import { useJobLog, type LogConnection } from '../api/use-job-log';

/** One log line's height in px (fixed: lines do not wrap, so the list needs no measuring). */
const ROW_PX = 20;

const CONNECTION_TEXT: Record<LogConnection, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Connection lost, reconnecting…',
  ended: 'Ended',
  failed: 'The log could not be streamed',
};

/**
 * A job's log as it is written: only the lines in view are in the DOM (TanStack Virtual), and the
 * view follows the end unless the person scrolls up (then a button brings them back).
 */
export function JobLogView({ projectId, jobId }: { projectId: string; jobId: string }) {
  const { lines, count, connection, endStatus } = useJobLog(projectId, jobId);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_PX,
    overscan: 30,
  });

  useEffect(() => {
    if (follow && count > 0) virtualizer.scrollToIndex(count - 1, { align: 'end' });
  }, [follow, count, virtualizer]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < ROW_PX * 2;
    if (atEnd !== follow) setFollow(atEnd);
  };

  return (
    <section className="job-log" aria-labelledby={`log-${jobId}`}>
      <div className="log-bar">
        <h3 id={`log-${jobId}`}>Log</h3>
        <span className="muted" role="status">
          {CONNECTION_TEXT[connection]}
          {connection === 'ended' && endStatus ? ` (${endStatus})` : ''} · {count.toLocaleString('en')} line
          {count === 1 ? '' : 's'}
        </span>
        {!follow && (
          <button type="button" className="secondary" onClick={() => setFollow(true)}>
            Follow the end
          </button>
        )}
      </div>
      <div
        ref={scrollRef}
        className="log-scroll"
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        aria-live="off"
        aria-label="Job log"
      >
        {count === 0 ? (
          <p className="muted log-empty">{connection === 'ended' ? 'The log is empty.' : 'No output yet.'}</p>
        ) : (
          <div className="log-lines" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((row) => (
              <div
                key={row.key}
                className="log-line"
                style={{ transform: `translateY(${row.start}px)`, height: ROW_PX }}
                data-line={row.index + 1}
              >
                {lines[row.index]}
              </div>
            ))}
          </div>
        )}
      </div>
    </section>
  );
}
