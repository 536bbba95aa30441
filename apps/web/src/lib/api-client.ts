import { ErrorResponse, type z } from '@cwo/contracts';

// The one fetch wrapper: same-origin requests under the API prefix, answers checked against the
// contracts' zod schemas, and every error the API answers turned into an ApiError that keeps the
// API's own ErrorResponse (detail, correlation id) and Retry-After.

export const API_PREFIX = '/api/v1';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The API's ErrorResponse; undefined when the answer was not one (a proxy's page, a cut connection). */
    readonly body: ErrorResponse | undefined,
    /** Seconds, from Retry-After, when the API said when to try again. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

/** The request never got an answer (the API is down, the network is gone). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('The API could not be reached', { cause });
    this.name = 'NetworkError';
  }
}

interface RequestOptions<T> {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  /** Checks and types the JSON answer; without it the answer is not read (204s). */
  schema?: z.ZodType<T>;
  signal?: AbortSignal;
}

function retryAfter(res: Response): number | undefined {
  const header = res.headers.get('Retry-After');
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** The ApiError of an answer that is not ok. */
export async function errorOf(res: Response): Promise<ApiError> {
  let body: ErrorResponse | undefined;
  try {
    const parsed = ErrorResponse.safeParse(await res.json());
    if (parsed.success) body = parsed.data;
  } catch {
    // not JSON: described by its status alone
  }
  return new ApiError(res.status, body, retryAfter(res));
}

export async function apiRequest<T>(path: string, options: RequestOptions<T> = {}): Promise<T> {
  const { method = 'GET', body, schema, signal } = options;
  let res: Response;
  try {
    res = await fetch(`${API_PREFIX}${path}`, {
      method,
      signal,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new NetworkError(err);
  }
  if (!res.ok) throw await errorOf(res);
  if (!schema) return undefined as T;
  return schema.parse(await res.json());
}

/** A text answer (a diff, a log), with the same errors as apiRequest. */
export async function apiText(path: string, signal?: AbortSignal): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${API_PREFIX}${path}`, {
      signal,
      credentials: 'same-origin',
      headers: { Accept: 'text/plain' },
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new NetworkError(err);
  }
  if (!res.ok) throw await errorOf(res);
  return res.text();
}
