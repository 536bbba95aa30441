import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { fakeFetch, json, renderWithApp } from '../../../test/render';
import { JOB_ID, jobDetailFixture, PROJECT_ID } from '../../../test/fixtures';
import { JobDetails } from './job-details';

const PROJECT = PROJECT_ID;
const JOB = JOB_ID;
const detail = jobDetailFixture;

describe('JobDetails', () => {
  it('says where a queued job stands, and cancels it', async () => {
    const api = fakeFetch((url, init) =>
      init.method === 'POST'
        ? json(200, detail({ status: 'cancelled', error_code: 'cancelled' }))
        : json(200, detail({ queue_position: { in_project: 1, overall: 3 } })),
    );
    vi.stubGlobal('fetch', api.fetch);
    renderWithApp(<JobDetails projectId={PROJECT} jobId={JOB} title="Job 2: Edit" />);

    expect((await screen.findByText(/^Waiting for/)).textContent).toBe(
      'Waiting for 1 job of this project and 3 jobs in the whole queue to finish first.',
    );
    await userEvent.setup().click(screen.getByRole('button', { name: 'Cancel this job' }));
    const cancel = api.calls.find((c) => c.init.method === 'POST');
    expect(cancel?.url).toBe(`/api/v1/projects/${PROJECT}/jobs/${JOB}/cancel`);
  });

  it("names a failed job's error code with what it means, its errors, tokens and commit", async () => {
    const failed = detail({
      status: 'error',
      error_code: 'timeout',
      errors: ['the agent ran past JOB_TIMEOUT_SECONDS=1800'],
      started_at: '2026-12-01T10:00:01.000Z',
      finished_at: '2026-12-01T10:30:01.000Z',
      duration_seconds: 1800,
      attempts: 1,
      usage: { input_tokens: 12000, cached_input_tokens: 3000, output_tokens: 450 },
      commit: '3f786850e387550fdab836ed7e6dc881de23001b',
    });
    vi.stubGlobal('fetch', fakeFetch(() => json(200, failed)).fetch);
    renderWithApp(<JobDetails projectId={PROJECT} jobId={JOB} title="Job 2: Edit" />);

    const errors = await screen.findByRole('group', { name: 'Why it did not complete' });
    expect(errors.textContent).toContain('timeout The job ran past its time limit');
    expect(errors.textContent).toContain('the agent ran past JOB_TIMEOUT_SECONDS=1800');
    expect(screen.getByText('12,000 in (3,000 cached), 450 out')).toBeTruthy();
    expect(screen.getByText('3f786850e387').getAttribute('title')).toBe(failed.commit);
    expect(screen.queryByRole('button', { name: /Cancel|Stop/ })).toBeNull();
  });
});
