import { age, localTime } from '../lib/format';

/** "3 minutes ago", with the exact time on hover and for assistive technology. */
export function RelativeTime({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={localTime(iso)}>
      {age(iso)}
    </time>
  );
}
