import type { ProjectSummary } from '@cwo/contracts';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { apiError, fakeFetch, json, renderWithApp } from '../../../test/render';
import { projectFixture } from '../../../test/fixtures';
import { ProjectsList } from './projects-list';

const project = (n: number, status: ProjectSummary['status'], minutesAgo: number) =>
  projectFixture({
    id: `4b7c8a1e-0000-4000-8000-${String(n).padStart(12, '0')}`,
    instruction: `Project number ${n}`,
    status,
    created_at: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
  });

describe('ProjectsList', () => {
  it("shows the API's order with each project's status in words and its age", async () => {
    const items = [project(2, 'in_progress', 3), project(1, 'error', 90)];
    vi.stubGlobal('fetch', fakeFetch(() => json(200, { items, total: 2, limit: 20, offset: 0 })).fetch);
    renderWithApp(<ProjectsList page={1} onPage={() => undefined} />);

    const rows = await screen.findAllByRole('listitem');
    expect(rows.map((r) => r.textContent)).toEqual([
      'Project number 2Running created 3 minutes ago',
      'Project number 1Error created 2 hours ago',
    ]);
    expect(screen.getByRole('link', { name: 'Project number 2' }).getAttribute('href')).toBe(
      `/projects/${items[0]!.id}`,
    );
    expect(screen.getByText('1–2 of 2 (page 1 of 1)')).toBeTruthy();
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Next' }).disabled).toBe(true);
  });

  it('asks the API for the page it shows, and moves between pages', async () => {
    const api = fakeFetch((url) => {
      const offset = Number(new URL(url, 'http://x').searchParams.get('offset'));
      return json(200, { items: [project(offset + 1, 'completed', 1)], total: 45, limit: 20, offset });
    });
    vi.stubGlobal('fetch', api.fetch);
    const onPage = vi.fn();
    renderWithApp(<ProjectsList page={2} onPage={onPage} />);

    expect(await screen.findByText('21–21 of 45 (page 2 of 3)')).toBeTruthy();
    expect(api.calls[0]!.url).toBe('/api/v1/projects?limit=20&offset=20');
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Next' }));
    await user.click(screen.getByRole('button', { name: 'Previous' }));
    expect(onPage.mock.calls).toEqual([[3], [1]]);
  });

  it('says there are no projects yet', async () => {
    vi.stubGlobal('fetch', fakeFetch(() => json(200, { items: [], total: 0, limit: 20, offset: 0 })).fetch);
    renderWithApp(<ProjectsList page={1} onPage={() => undefined} />);
    expect((await screen.findByText(/No projects yet/)).textContent).toContain('Describe what you want built');
  });

  it('says why the list could not be loaded', async () => {
    vi.stubGlobal('fetch', fakeFetch(() => apiError(503, 'Database unavailable')).fetch);
    renderWithApp(<ProjectsList page={1} onPage={() => undefined} />);
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The projects could not be loaded. The service is unavailable right now. Database unavailable. (request req-1)',
    );
  });
});
