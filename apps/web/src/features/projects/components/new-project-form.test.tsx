import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { apiError, fakeFetch, json, renderWithApp } from '../../../test/render';
import { projectCreatedFixture } from '../../../test/fixtures';
import { NewProjectForm } from './new-project-form';

const PROJECT = projectCreatedFixture();

async function submit(text: string) {
  const user = userEvent.setup();
  const box = screen.getByLabelText('What should the agent build?');
  await user.clear(box);
  if (text) await user.type(box, text);
  await user.click(screen.getByRole('button', { name: 'Create project' }));
}

describe('NewProjectForm', () => {
  it('checks the instruction as the API does (trimmed, then 5–2000 characters) before sending anything', async () => {
    const api = fakeFetch(() => json(202, PROJECT));
    vi.stubGlobal('fetch', api.fetch);
    renderWithApp(<NewProjectForm />);

    await submit('    ');
    expect((await screen.findByRole('alert')).textContent).toBe('instruction must not be empty');
    await submit('  abc   ');
    expect(screen.getByRole('alert').textContent).toBe('String should have at least 5 characters');
    expect(screen.getByLabelText('What should the agent build?').getAttribute('aria-invalid')).toBe('true');
    expect(api.calls).toHaveLength(0);
  });

  it('sends the trimmed instruction, says the project was created and links to it', async () => {
    const api = fakeFetch(() => json(202, PROJECT));
    vi.stubGlobal('fetch', api.fetch);
    renderWithApp(<NewProjectForm />);

    await submit('  Build a CLI  ');
    const status = await screen.findByRole('status');
    expect(status.textContent).toContain('Project created');
    expect(screen.getByRole('link', { name: 'open it' }).getAttribute('href')).toBe(`/projects/${PROJECT.id}`);
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0]!.url).toBe('/api/v1/projects');
    expect(api.calls[0]!.init.method).toBe('POST');
    expect(JSON.parse(api.calls[0]!.init.body as string)).toEqual({ instruction: 'Build a CLI' });
    expect(screen.getByLabelText<HTMLTextAreaElement>('What should the agent build?').value).toBe('');
  });

  it("shows the API's own 422 detail in words", async () => {
    const detail = [{ loc: ['body', 'instruction'], msg: 'String contains a NUL character', type: 'value_error' }];
    vi.stubGlobal('fetch', fakeFetch(() => apiError(422, detail)).fetch);
    renderWithApp(<NewProjectForm />);

    await submit('Build a CLI');
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toBe(
        'The project was not created. instruction: String contains a NUL character.',
      ),
    );
  });

  it('says when to try again after a 429 (Retry-After)', async () => {
    const detail = 'Rate limit reached: at most 1 projects and jobs may be created per 60 s per user';
    vi.stubGlobal('fetch', fakeFetch(() => apiError(429, detail, { 'Retry-After': '42' })).fetch);
    renderWithApp(<NewProjectForm />);

    await submit('Build a CLI');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain(`Too many requests. ${detail}.`);
    expect(alert.textContent).toMatch(/Try again in 42 seconds \(at \d\d:\d\d:\d\d\)\./);
  });

  it("explains a 503 with the API's message (the project is saved and will run)", async () => {
    const detail = {
      message: 'The job queue is unavailable. The job is saved and will run once the queue is back.',
      project_id: PROJECT.id,
      job_id: PROJECT.job.id,
    };
    vi.stubGlobal('fetch', fakeFetch(() => apiError(503, detail)).fetch);
    renderWithApp(<NewProjectForm />);

    await submit('Build a CLI');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(
      'The project was not created. The service is unavailable right now. The job queue is unavailable. ' +
        'The job is saved and will run once the queue is back. (request req-1)',
    );
  });

  it('says so when the API cannot be reached', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    renderWithApp(<NewProjectForm />);

    await submit('Build a CLI');
    expect((await screen.findByRole('alert')).textContent).toContain('The API could not be reached');
  });
});
