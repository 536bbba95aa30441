import { SessionInfo, type SessionCreate } from '@cwo/contracts';
import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { ApiError, apiRequest } from '../../../lib/api-client';

// Who is signed in (GET /session), signing in (POST: an API key for the HttpOnly session cookie)
// and out (DELETE). The key goes to the API once and is kept nowhere: not in storage, not in a
// cookie a script can read, not in this cache.

export const SESSION_QUERY_KEY = ['session'] as const;

export const isUnauthorized = (err: unknown): boolean => err instanceof ApiError && err.status === 401;

export function useSession() {
  return useQuery({
    queryKey: SESSION_QUERY_KEY,
    queryFn: ({ signal }) => apiRequest('/session', { schema: SessionInfo, signal }),
    // Asked again when an answer elsewhere is a 401 (lib/query-client.ts), not on a timer.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
}

/** Everything cached belongs to whoever was signed in: dropped when that changes. */
function forgetEverything(queryClient: QueryClient): void {
  queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_QUERY_KEY[0] });
}

export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationKey: [...SESSION_QUERY_KEY, 'sign-in'],
    mutationFn: (body: SessionCreate) => apiRequest('/session', { method: 'POST', body, schema: SessionInfo }),
    onSuccess: (session) => {
      forgetEverything(queryClient);
      queryClient.setQueryData(SESSION_QUERY_KEY, session);
    },
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationKey: [...SESSION_QUERY_KEY, 'sign-out'],
    mutationFn: () => apiRequest('/session', { method: 'DELETE' }),
    onSuccess: async () => {
      forgetEverything(queryClient);
      // GET /session answers 401 now: the sign-in page.
      await queryClient.resetQueries({ queryKey: SESSION_QUERY_KEY });
    },
  });
}
