import { ErrorMessage } from '../../../components/error-message';
import { useSession, useSignOut } from '../api/session';

/** Who is signed in, and the sign-out button (only for a session: AUTH_MODE=none has none). */
export function SessionControl() {
  const { data: session } = useSession();
  const signOut = useSignOut();
  if (session?.via !== 'cookie') return null;
  return (
    <div className="session-control">
      <span className="muted">
        Signed in as <strong>{session.user.name}</strong>
      </span>
      <button type="button" className="secondary" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
        {signOut.isPending ? 'Signing out…' : 'Sign out'}
      </button>
      {signOut.isError && <ErrorMessage error={signOut.error} prefix="Not signed out." />}
    </div>
  );
}
