import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiError } from './api-client';

/** A 4xx will not get better by asking again; anything else is retried twice. */
function shouldRetry(failures: number, err: unknown): boolean {
  if (err instanceof ApiError && err.status >= 400 && err.status < 500) return false;
  return failures < 2;
}

/** The key of the query that says who is signed in (features/session/api/session.ts). */
const SESSION_KEY = 'session';

export function createQueryClient(): QueryClient {
  // A 401 from any request means the session ended (expired, signed out elsewhere, its key
  // revoked): GET /session is asked again, and its 401 shows the sign-in page.
  const onError = (err: unknown, key: readonly unknown[] | undefined) => {
    // Signing in with a wrong key, or GET /session itself, is no news about the session.
    if (!(err instanceof ApiError) || err.status !== 401 || key?.[0] === SESSION_KEY) return;
    void client.invalidateQueries({ queryKey: [SESSION_KEY] });
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError: (err, query) => onError(err, query.queryKey) }),
    mutationCache: new MutationCache({
      onError: (err, _vars, _ctx, mutation) => onError(err, mutation.options.mutationKey),
    }),
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 1_000, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
  return client;
}
