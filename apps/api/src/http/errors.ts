import type { ErrorStatus, ValidationIssue } from '@cwo/contracts';

/**
 * An error with an HTTP meaning. Handlers throw these; http/error-handler.ts turns them into the
 * seed's ErrorResponse. `detail` is shown to the client, so it never carries internals.
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
export const notFound = (detail: string) => new HttpError(404, detail);
export const conflict = (detail: string) => new HttpError(409, detail);
export const unavailable = (detail: string | Record<string, unknown>) => new HttpError(503, detail);
export const validationFailed = (issues: ValidationIssue[]) => new HttpError(422, issues);
