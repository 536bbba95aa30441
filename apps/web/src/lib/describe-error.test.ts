import { describe, expect, it } from 'vitest';
import { ApiError } from './api-client';
import { describeError, formatRetry } from './describe-error';

const body = (code: number, detail?: unknown) => ({ error: 'x', message: 'Conflict', code, detail }) as never;

describe('describeError', () => {
  it('lists every validation issue by field', () => {
    const err = new ApiError(
      422,
      body(422, [
        { loc: ['body', 'instruction'], msg: 'String should have at least 5 characters', type: 'too_small' },
        { loc: ['query', 'limit'], msg: 'Too big', type: 'too_big' },
      ]),
      undefined,
    );
    expect(describeError(err)).toBe('instruction: String should have at least 5 characters; limit: Too big.');
  });

  it('gives the time to retry at, from Retry-After', () => {
    const now = new Date('2026-12-01T10:00:00Z');
    expect(formatRetry(1, now)).toMatch(/^Try again in 1 second \(at \d\d:\d\d:01\)\.$/);
    const err = new ApiError(429, body(429, 'Active job limit reached'), 10);
    expect(describeError(err, now)).toMatch(/^Too many requests\. Active job limit reached\. Try again in 10 seconds/);
  });

  it('falls back to the status when the answer was not the API’s', () => {
    expect(describeError(new ApiError(502, undefined, undefined))).toBe('The request failed (HTTP 502).');
    expect(describeError(new ApiError(409, body(409, 'Job already finished'), undefined))).toBe(
      'Conflict: Job already finished.',
    );
  });
});
