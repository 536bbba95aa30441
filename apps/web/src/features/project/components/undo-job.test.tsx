import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { apiError, fakeFetch, json, renderWithApp } from '../../../test/render';
import { JOB_ID, jobDetailFixture, jobSummaryFixture, PROJECT_ID } from '../../../test/fixtures';
import { DownloadArchive } from './download-archive';
import { liveRevertOf, UndoJob } from './undo-job';

const REVERT_ID = '33333333-3333-4333-8333-333333333333';
const COMMIT = '3f786850e387550fdab836ed7e6dc881de23001b';
const changed = jobDetailFixture({ status: 'completed', commit: COMMIT, modified_files: ['app.py'] });

describe('UndoJob', () => {
  it('queues a revert of a finished job that changed files, and selects it', async () => {
    const api = fakeFetch(() =>
      json(202, jobSummaryFixture({ id: REVERT_ID, job_type: 'revert', reverts_job_id: JOB_ID })),
    );
    vi.stubGlobal('fetch', api.fetch);
    const onQueued = vi.fn();
    renderWithApp(<UndoJob projectId={PROJECT_ID} job={changed} onQueued={onQueued} />);

    await userEvent.setup().click(screen.getByRole('button', { name: 'Undo this job' }));
    expect((await screen.findByRole('status')).textContent).toBe(
      'Undo queued as job 33333333: it runs after the jobs before it.',
    );
    expect(api.calls.map((c) => [c.init.method, c.url])).toEqual([
      ['POST', `/api/v1/projects/${PROJECT_ID}/jobs/${JOB_ID}/revert`],
    ]);
    expect(onQueued).toHaveBeenCalledWith(REVERT_ID);
  });

  it('shows why the API refused', async () => {
    vi.stubGlobal(
      'fetch',
      fakeFetch(() => apiError(409, 'The job changed nothing that the project history kept (status completed)')).fetch,
    );
    renderWithApp(<UndoJob projectId={PROJECT_ID} job={changed} />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Undo this job' }));
    expect((await screen.findByText(/could not be undone/)).textContent).toContain('The job could not be undone.');
    expect(document.body.textContent).toContain('The job changed nothing that the project history kept');
  });

  it('is not offered again for a job another revert undoes: it names that job and shows it', async () => {
    const api = fakeFetch(() => json(500, {}));
    vi.stubGlobal('fetch', api.fetch);
    const onQueued = vi.fn();
    const undoing = jobSummaryFixture({
      id: REVERT_ID,
      job_type: 'revert',
      reverts_job_id: JOB_ID,
      status: 'completed',
    });
    renderWithApp(<UndoJob projectId={PROJECT_ID} job={changed} undoneBy={undoing} onQueued={onQueued} />);

    expect(screen.queryByRole('button', { name: 'Undo this job' })).toBeNull();
    expect(document.body.textContent).toContain('Undone by job 33333333.');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Show that job' }));
    expect(onQueued).toHaveBeenCalledWith(REVERT_ID);
    expect(api.calls).toEqual([]);
  });

  it('counts a revert that failed or was cancelled as no undo, as the API does', () => {
    const jobs = [
      jobSummaryFixture({ id: REVERT_ID, job_type: 'revert', reverts_job_id: JOB_ID, status: 'error' }),
      jobSummaryFixture({ id: JOB_ID, status: 'completed' }),
    ];
    expect(liveRevertOf(jobs, JOB_ID)).toBeUndefined();
    const queued = jobSummaryFixture({ id: REVERT_ID, job_type: 'revert', reverts_job_id: JOB_ID, status: 'queued' });
    expect(liveRevertOf([...jobs, queued], JOB_ID)).toBe(queued);
  });

  it('is not offered for a job that is running, changed nothing, or kept no commit', () => {
    for (const job of [
      jobDetailFixture({ status: 'in_progress', modified_files: ['app.py'] }),
      jobDetailFixture({ status: 'completed', commit: COMMIT }),
      jobDetailFixture({ status: 'error', modified_files: ['app.py'], commit: null }),
    ]) {
      const { unmount } = renderWithApp(<UndoJob projectId={PROJECT_ID} job={job} />);
      expect(screen.queryByRole('button', { name: 'Undo this job' })).toBeNull();
      unmount();
    }
  });
});

describe('DownloadArchive', () => {
  it('links the archive endpoint in both formats', () => {
    renderWithApp(<DownloadArchive projectId={PROJECT_ID} />);
    expect(screen.getByRole('link', { name: 'tar.gz' }).getAttribute('href')).toBe(
      `/api/v1/projects/${PROJECT_ID}/archive?format=tar.gz`,
    );
    expect(screen.getByRole('link', { name: 'zip' }).getAttribute('href')).toBe(
      `/api/v1/projects/${PROJECT_ID}/archive?format=zip`,
    );
  });
});
