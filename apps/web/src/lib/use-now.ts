import { useEffect, useState } from 'react';

/** The time, refreshed every `everyMs`: for "3 minutes ago" and "running for 12 s" to move on. */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
