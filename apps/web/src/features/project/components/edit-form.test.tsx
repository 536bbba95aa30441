import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { JobDetail } from '@cwo/contracts';
import { fakeFetch, json, renderWithApp } from '../../../test/render';
import { JOB_ID, jobDetailFixture, jobSummaryFixture, PROJECT_ID } from '../../../test/fixtures';
import { EditForm } from './edit-form';

describe('EditForm', () => {
  it('queues the edit and says, beside the box, where it stands until it runs and how it ended', async () => {
    let job: JobDetail = jobDetailFixture({ queue_position: { in_project: 1, overall: 3 } });
    const api = fakeFetch((url, init) =>
      init.method === 'POST'
        ? json(202, jobSummaryFixture({ job_type: 'edit', instruction: 'Append a line' }))
        : json(200, job),
    );
    vi.stubGlobal('fetch', api.fetch);
    const onQueued = vi.fn();
    renderWithApp(<EditForm projectId={PROJECT_ID} onQueued={onQueued} />);

    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Ask for the next change'), 'Append a line');
    await user.click(screen.getByRole('button', { name: 'Queue edit' }));
    expect((await screen.findByText(/^Your edit is queued/)).textContent).toBe(
      'Your edit is queued. Waiting for 1 job of this project and 3 jobs in the whole queue to finish first.',
    );
    expect(onQueued).toHaveBeenCalledWith(JOB_ID);
    expect(api.calls.find((c) => c.init.method === 'POST')?.url).toBe(`/api/v1/projects/${PROJECT_ID}/jobs`);
    expect(screen.getByLabelText<HTMLTextAreaElement>('Ask for the next change').value).toBe('');

    // It is polled as the job's panel polls it: running, then ended.
    job = { ...job, status: 'in_progress', queue_position: null };
    await screen.findByText('Your edit is running.', undefined, { timeout: 5_000 });
    job = { ...job, status: 'completed' };
    await screen.findByText('Your edit ended: completed.', undefined, { timeout: 5_000 });
  });
});
