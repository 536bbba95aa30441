import { z } from './zod';

export const ValidationIssue = z
  .object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() })
  .openapi('ValidationIssue');
export type ValidationIssue = z.infer<typeof ValidationIssue>;

/** The error shape (docs/http-api.md, "Errors"), for every error the API returns. */
export const ErrorResponse = z
  .object({
    error: z.string().openapi({ example: 'not_found' }),
    message: z.string().openapi({ example: 'Not found' }),
    code: z.number().int().openapi({ example: 404 }),
    detail: z.union([z.string(), z.array(ValidationIssue), z.record(z.string(), z.unknown())]).optional(),
    correlation_id: z.string().optional(),
  })
  .openapi('ErrorResponse');
export type ErrorResponse = z.infer<typeof ErrorResponse>;

/** error code and message for each status the API answers with (docs/http-api.md, "Errors"). */
export const ERROR_KINDS = {
  400: { error: 'bad_request', message: 'Bad request' },
  401: { error: 'unauthorized', message: 'Unauthorized' },
  403: { error: 'forbidden', message: 'Forbidden' },
  404: { error: 'not_found', message: 'Not found' },
  405: { error: 'method_not_allowed', message: 'Method not allowed' },
  409: { error: 'conflict', message: 'Conflict' },
  413: { error: 'payload_too_large', message: 'Payload too large' },
  415: { error: 'unsupported_media_type', message: 'Unsupported media type' },
  422: { error: 'validation_error', message: 'Validation failed' },
  429: { error: 'rate_limited', message: 'Too many requests' },
  500: { error: 'internal_error', message: 'Internal server error' },
  502: { error: 'bad_gateway', message: 'Bad gateway' },
  503: { error: 'service_unavailable', message: 'Service unavailable' },
  504: { error: 'gateway_timeout', message: 'Gateway timeout' },
} as const;
export type ErrorStatus = keyof typeof ERROR_KINDS;
