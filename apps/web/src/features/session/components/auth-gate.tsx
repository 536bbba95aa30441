import type { ReactNode } from 'react';
import { isUnauthorized, useSession } from '../api/session';
import { SignInPage } from './sign-in-page';

/**
 * The app once the API knows who is calling; the sign-in page while it answers 401. Any other
 * trouble asking (the API down) shows the app anyway: its views say what is wrong.
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const session = useSession();
  if (session.isPending) return <p className="muted">Loading…</p>;
  if (isUnauthorized(session.error)) return <SignInPage />;
  return children;
}
