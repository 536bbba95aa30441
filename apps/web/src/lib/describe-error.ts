import type { ErrorResponse, ValidationIssue } from '@cwo/contracts';
import { ApiError, NetworkError } from './api-client';

// What went wrong, in words a person can act on, from the API's own answer.

function issueLine(issue: ValidationIssue): string {
  // loc is ["body", "instruction"]: the field is what matters to a person.
  const field = issue.loc.filter((part) => part !== 'body' && part !== 'query').join('.');
  return field ? `${field}: ${issue.msg}` : issue.msg;
}

function detailText(detail: ErrorResponse['detail']): string | undefined {
  if (detail === undefined) return undefined;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return detail.map(issueLine).join('; ');
  // An object detail (a 503 on creation: {message, project_id, job_id}) says it in `message`.
  if (typeof detail.message === 'string') return detail.message;
  return JSON.stringify(detail);
}

const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

export function formatRetry(seconds: number, now: Date = new Date()): string {
  const at = new Date(now.getTime() + seconds * 1000);
  const clock = at.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return `Try again in ${seconds} second${seconds === 1 ? '' : 's'} (at ${clock}).`;
}

export function describeError(err: unknown, now: Date = new Date()): string {
  if (err instanceof NetworkError) return 'The API could not be reached. Check that it is running, then try again.';
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const detail = detailText(err.body?.detail);
  const ref = err.body?.correlation_id ? ` (request ${err.body.correlation_id})` : '';
  switch (err.status) {
    case 422:
      return sentence(detail ?? 'The request was not valid');
    case 429: {
      const when = err.retryAfterSeconds !== undefined ? ` ${formatRetry(err.retryAfterSeconds, now)}` : '';
      return `Too many requests. ${sentence(detail ?? 'A limit was reached')}${when}`;
    }
    case 503:
      return `The service is unavailable right now. ${sentence(detail ?? 'A service it depends on is down')}${ref}`;
    case 401:
      return 'You are not signed in, or your key is no longer valid.';
    case 404:
      return sentence(detail ?? 'Not found');
    default:
      return `${sentence(`${err.body?.message ?? `The request failed (HTTP ${err.status})`}${detail ? `: ${detail}` : ''}`)}${ref}`;
  }
}
