import type { Preview } from '@cwo/contracts';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { PROJECT_ID } from '../../../test/fixtures';
import { fakeFetch, json, renderWithApp } from '../../../test/render';
import { PREVIEW_SANDBOX, PreviewPanel } from './preview-panel';
import { ProjectTabs } from './project-tabs';

const URL_ = `http://${PROJECT_ID}.preview.localhost:8000/`;
const preview = (over: Partial<Preview> = {}): Preview => ({
  project_id: PROJECT_ID,
  kind: 'static',
  status: 'running',
  preview_url: URL_,
  expires_at: null,
  command: null,
  port: null,
  started_at: null,
  stopped_at: null,
  reason: null,
  log: '',
  ...over,
});
const server = (over: Partial<Preview> = {}) =>
  preview({ kind: 'server', command: 'node server.js', port: 3000, started_at: '2026-12-01T10:00:00.000Z', ...over });

describe('PreviewPanel', () => {
  it('shows the static preview in a sandboxed frame, opens it in a new tab, and starts the agent’s server', async () => {
    const api = fakeFetch((_url, init) =>
      init.method === 'POST' ? json(202, server({ status: 'starting' })) : json(200, preview()),
    );
    vi.stubGlobal('fetch', api.fetch);
    renderWithApp(<PreviewPanel projectId={PROJECT_ID} />);

    const frame = await screen.findByTitle('Preview of the project');
    expect(frame.getAttribute('src')).toBe(URL_);
    // Exactly the preview origin's CSP: no allow-same-origin, no top navigation.
    expect(frame.getAttribute('sandbox')).toBe(PREVIEW_SANDBOX);
    expect(PREVIEW_SANDBOX).not.toMatch(/same-origin|top-navigation/);
    const open = screen.getByRole('link', { name: 'Open in a new tab' });
    expect(open.getAttribute('href')).toBe(URL_);
    expect(open.getAttribute('target')).toBe('_blank');
    expect(open.getAttribute('rel')).toContain('noopener');
    expect(screen.queryByRole('button', { name: 'Stop server' })).toBeNull();

    // No command given: the server the agent named in result.json.
    await userEvent.setup().click(screen.getByRole('button', { name: 'Start server' }));
    const post = api.calls.find((c) => c.init.method === 'POST');
    expect(post?.url).toBe(`/api/v1/projects/${PROJECT_ID}/preview`);
    expect(JSON.parse(post?.init.body as string)).toEqual({});
    expect(await screen.findByText('Starting')).toBeTruthy();
    expect(screen.getByText('Server: node server.js on port 3000')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Stop server' })).toBeTruthy();
  });

  it('says why a server failed, with its log, and starts the command and port given', async () => {
    const api = fakeFetch((_url, init) =>
      init.method === 'POST'
        ? json(202, server({ command: 'npm start', port: 8080, status: 'starting' }))
        : json(200, server({ status: 'failed', reason: 'the server exited with code 3', log: 'about to fail\n' })),
    );
    vi.stubGlobal('fetch', api.fetch);
    renderWithApp(<PreviewPanel projectId={PROJECT_ID} />);

    expect(await screen.findByText('Failed')).toBeTruthy();
    expect(screen.getByText('Why: the server exited with code 3')).toBeTruthy();
    expect(screen.getByText('about to fail')).toBeTruthy();
    const user = userEvent.setup();
    const command = screen.getByLabelText('Command');
    await user.clear(command);
    await user.type(command, 'npm start');
    const port = screen.getByLabelText('Port');
    await user.clear(port);
    await user.type(port, '8080');
    await user.click(screen.getByRole('button', { name: 'Start server' }));
    await waitFor(() => expect(api.calls.some((c) => c.init.method === 'POST')).toBe(true));
    const post = api.calls.find((c) => c.init.method === 'POST');
    expect(JSON.parse(post?.init.body as string)).toEqual({ command: 'npm start', port: 8080 });
  });

  it('stops a running server', async () => {
    let stopped = false;
    const api = fakeFetch((_url, init) => {
      if (init.method === 'DELETE') {
        stopped = true;
        return new Response(null, { status: 204 });
      }
      return json(200, stopped ? server({ status: 'stopped', reason: 'stopped by DELETE /preview' }) : server());
    });
    vi.stubGlobal('fetch', api.fetch);
    renderWithApp(<PreviewPanel projectId={PROJECT_ID} />);

    await userEvent.setup().click(await screen.findByRole('button', { name: 'Stop server' }));
    expect(await screen.findByText('Stopped')).toBeTruthy();
    expect(api.calls.find((c) => c.init.method === 'DELETE')?.url).toBe(`/api/v1/projects/${PROJECT_ID}/preview`);
    expect(screen.queryByRole('button', { name: 'Stop server' })).toBeNull();
  });
});

describe('ProjectTabs', () => {
  it('shows the files first, and the preview on its tab (by click or arrow key), kept in the address', async () => {
    vi.stubGlobal('fetch', fakeFetch(() => json(200, preview())).fetch);
    const { location } = renderWithApp(<ProjectTabs projectId={PROJECT_ID} files={<p>the file tree</p>} />, {
      path: '/projects/x',
    });
    const user = userEvent.setup();
    expect(screen.getByRole('tab', { name: 'Files' }).getAttribute('aria-selected')).toBe('true');
    expect(screen.getByText('the file tree')).toBeTruthy();
    expect(screen.queryByTitle('Preview of the project')).toBeNull();

    await user.click(screen.getByRole('tab', { name: 'Preview' }));
    expect(await screen.findByTitle('Preview of the project')).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'Preview' }).getAttribute('aria-selected')).toBe('true');
    expect(location.history?.at(-1)).toBe('/projects/x?tab=preview');

    await user.keyboard('{ArrowLeft}');
    expect(screen.getByRole('tab', { name: 'Files' }).getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Files' }));
    expect(screen.queryByTitle('Preview of the project')).toBeNull();
  });
});
