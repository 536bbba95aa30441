import type { ErrorStatus, ValidationIssue } from '@cwo/contracts';

/**
 * An error with an HTTP meaning. Handlers throw these; http/error-handler.ts turns them into the
 * ErrorResponse (docs/http-api.md). `detail` is shown to the client, so it never carries internals.
 */
export class HttpError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly detail?: string | ValidationIssue[] | Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : `HTTP ${status}`);
    this.name = 'HttpError';
  }
}

export const badRequest = (detail: string) => new HttpError(400, detail);
/** `challenge` is the WWW-Authenticate value that tells the client how to authenticate. */
export const unauthorized = (detail: string, challenge: string) =>
  new HttpError(401, detail, { 'WWW-Authenticate': challenge });
export const forbidden = (detail: string) => new HttpError(403, detail);
export const tooManyRequests = (detail: string, retryAfterSeconds: number) =>
  new HttpError(429, detail, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
export const notFound = (detail: string) => new HttpError(404, detail);
export const conflict = (detail: string) => new HttpError(409, detail);
export const unavailable = (detail: string | Record<string, unknown>) => new HttpError(503, detail);
export const validationFailed = (issues: ValidationIssue[]) => new HttpError(422, issues);
