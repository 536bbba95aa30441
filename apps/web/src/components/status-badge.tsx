import type { Status } from '@cwo/contracts';

const LABELS: Record<Status, string> = {
  queued: 'Queued',
  in_progress: 'Running',
  completed: 'Completed',
  error: 'Error',
  cancelled: 'Cancelled',
};

/** The status in words (never by colour alone), coloured by class. */
export function StatusBadge({ status }: { status: Status }) {
  return <span className={`status status-${status}`}>{LABELS[status]}</span>;
}
