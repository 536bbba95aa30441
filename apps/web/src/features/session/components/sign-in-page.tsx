import { useId, useState, type FormEvent } from 'react';
import { ApiError } from '../../../lib/api-client';
import { describeError } from '../../../lib/describe-error';
import { useSignIn } from '../api/session';

/** A wrong key in the API's own words ("Invalid API key (unknown or revoked)."); the rest as everywhere. */
export function signInErrorText(err: unknown): string {
  if (err instanceof ApiError && err.status === 401 && typeof err.body?.detail === 'string') {
    const detail = err.body.detail;
    return /[.!?]$/.test(detail) ? detail : `${detail}.`;
  }
  return describeError(err);
}

/**
 * Shown whenever the API says 401 (AUTH_MODE=api_key and no session, or an ended one). The key
 * lives only in this field's state until it is sent: the API answers with an HttpOnly cookie,
 * and the field is emptied, whatever the answer.
 */
export function SignInPage() {
  const [key, setKey] = useState('');
  const signIn = useSignIn();
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim() === '') return;
    signIn.mutate({ api_key: key.trim() });
    setKey('');
  };

  return (
    <section className="card sign-in" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>Sign in</h2>
      <form onSubmit={submit} noValidate>
        <label htmlFor={inputId}>API key</label>
        <input
          id={inputId}
          name="api_key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-describedby={`${hintId}${signIn.isError ? ` ${errorId}` : ''}`}
          aria-invalid={signIn.isError ? true : undefined}
        />
        <div className="form-row">
          <span id={hintId} className="hint">
            A key of this service (cwo_…), from its admin. This page keeps it nowhere: it is exchanged for a session.
          </span>
          <button type="submit" disabled={signIn.isPending || key.trim() === ''}>
            {signIn.isPending ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
        {signIn.isError && (
          <p id={errorId} role="alert" className="error-message">
            {signInErrorText(signIn.error)}
          </p>
        )}
      </form>
    </section>
  );
}
