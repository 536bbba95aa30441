import type { Status } from '@cwo/contracts';

/** Each status in words. */
export const STATUS_TEXT: Record<Status, string> = {
  queued: 'Queued',
  in_progress: 'Running',
  completed: 'Completed',
  error: 'Error',
  cancelled: 'Cancelled',
};

/** The status in words (never by colour alone), coloured by class. */
export function StatusBadge({ status }: { status: Status }) {
  return <span className={`status status-${status}`}>{STATUS_TEXT[status]}</span>;
}
