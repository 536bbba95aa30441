import { age, localTime } from '../lib/format';
import { useNow } from '../lib/use-now';

/** "3 minutes ago", with the exact time on hover and for assistive technology. */
export function RelativeTime({ iso }: { iso: string }) {
  const now = useNow(10_000);
  return (
    <time dateTime={iso} title={localTime(iso)}>
      {age(iso, now)}
    </time>
  );
}
