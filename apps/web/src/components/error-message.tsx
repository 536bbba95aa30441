import { describeError } from '../lib/describe-error';

/** An error in words, announced to screen readers as it appears. */
export function ErrorMessage({ error, prefix }: { error: unknown; prefix?: string }) {
  return (
    <p role="alert" className="error-message">
      {prefix ? `${prefix} ` : ''}
      {describeError(error)}
    </p>
  );
}
