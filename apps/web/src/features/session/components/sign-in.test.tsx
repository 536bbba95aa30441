import { focusManager } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { Router } from 'wouter';
import { memoryLocation } from 'wouter/memory-location';
import { AppProvider } from '../../../app/provider';
import { AppRoutes } from '../../../app/router';
import { createQueryClient } from '../../../lib/query-client';
import { sessionFixture } from '../../../test/fixtures';
import { apiError, fakeFetch, json } from '../../../test/render';

// The whole app (routes, layout, the query client of main.tsx) over a fake API that knows one key.

const KEY = 'cwo_AbCdEfGh_0123456789012345678901234567890123456789abc';

function fakeApi() {
  let signedIn = false;
  let projectsAnswer: 'ok' | 'expired' = 'ok';
  const api = fakeFetch((url, init) => {
    const method = init.method ?? 'GET';
    if (url === '/api/v1/session' && method === 'GET') {
      return signedIn ? json(200, sessionFixture()) : apiError(401, 'Missing API key');
    }
    if (url === '/api/v1/session' && method === 'POST') {
      const { api_key } = JSON.parse(init.body as string) as { api_key: string };
      if (api_key !== KEY) return apiError(401, 'Invalid API key (unknown or revoked)');
      signedIn = true;
      return json(200, sessionFixture());
    }
    if (url === '/api/v1/session' && method === 'DELETE') {
      signedIn = false;
      return new Response(null, { status: 204 });
    }
    if (!signedIn || projectsAnswer === 'expired') {
      signedIn = false;
      return apiError(401, 'Session expired or ended: sign in again');
    }
    return json(200, { items: [], total: 0, limit: 20, offset: 0 });
  });
  return {
    ...api,
    signIn: () => (signedIn = true),
    expire: () => (projectsAnswer = 'expired'),
  };
}

function renderApp() {
  const location = memoryLocation({ path: '/', record: true });
  return render(
    <AppProvider queryClient={createQueryClient()}>
      <Router hook={location.hook} searchHook={location.searchHook}>
        <AppRoutes />
      </Router>
    </AppProvider>,
  );
}

describe('signing in', () => {
  it('a 401 shows the sign-in page: a labelled password field; a wrong key is told in the API’s words', async () => {
    const api = fakeApi();
    vi.stubGlobal('fetch', api.fetch);
    renderApp();
    const field = await screen.findByLabelText('API key');
    expect(field.getAttribute('type')).toBe('password');
    expect(screen.queryByText(/No projects yet/)).toBeNull();

    const user = userEvent.setup();
    await user.type(field, 'cwo_wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Invalid API key (unknown or revoked).');
    expect(field.getAttribute('aria-invalid')).toBe('true');
    // The field is emptied: the key stays nowhere, not even in the page.
    expect((field as HTMLInputElement).value).toBe('');
  });

  it('the right key shows the app and who is signed in; the key is kept in no storage', async () => {
    const api = fakeApi();
    vi.stubGlobal('fetch', api.fetch);
    renderApp();
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('API key'), `  ${KEY}{Enter}`);
    await screen.findByText(/No projects yet/);
    expect(screen.getByText(/Signed in as/).textContent).toBe('Signed in as alice');
    const post = api.calls.find((c) => c.init.method === 'POST');
    expect(JSON.parse(post!.init.body as string)).toEqual({ api_key: KEY });
    expect(post!.init.credentials).toBe('same-origin');
    const stored = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie;
    expect(stored).not.toContain(KEY.slice(13));
  });

  it('sign out ends the session and shows the sign-in page again', async () => {
    const api = fakeApi();
    api.signIn();
    vi.stubGlobal('fetch', api.fetch);
    renderApp();
    await screen.findByText(/No projects yet/);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Sign out' }));
    await screen.findByLabelText('API key');
    expect(api.calls.some((c) => c.url === '/api/v1/session' && c.init.method === 'DELETE')).toBe(true);
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
  });

  it('a session that ends while the app is open (any 401) brings the sign-in page back', async () => {
    const api = fakeApi();
    api.signIn();
    vi.stubGlobal('fetch', api.fetch);
    const { container } = renderApp();
    await screen.findByText(/No projects yet/);
    api.expire();
    // The next refresh of the list (here: the window getting focus back, once the data is stale) is a 401.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    focusManager.setFocused(false);
    focusManager.setFocused(true);
    await screen.findByLabelText('API key');
    expect(container.textContent).not.toContain('No projects yet');
    focusManager.setFocused(undefined);
  });

  it('with AUTH_MODE=none there is no sign-in and no sign-out button', async () => {
    vi.stubGlobal(
      'fetch',
      fakeFetch((url) =>
        url === '/api/v1/session'
          ? json(200, sessionFixture({ auth_mode: 'none', api_key: null, via: 'none', expires_at: null }))
          : json(200, { items: [], total: 0, limit: 20, offset: 0 }),
      ).fetch,
    );
    renderApp();
    await screen.findByText(/No projects yet/);
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
    expect(screen.queryByLabelText('API key')).toBeNull();
  });
});
