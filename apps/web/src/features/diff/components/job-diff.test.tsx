import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { fakeFetch, renderWithApp } from '../../../test/render';
import { JOB_ID, PROJECT_ID } from '../../../test/fixtures';
import { JobDiff } from './lazy-job-diff';

const DIFF = `diff --git a/app.py b/app.py
index 3b18e51..a3c2d14 100644
--- a/app.py
+++ b/app.py
@@ -1,2 +1,3 @@
 def fibonacci(n):
     return n
+# Edit: a comment line
`;

describe('JobDiff (loaded on demand)', () => {
  it('says it is loading while its code comes, then the added line, unified and split', async () => {
    const api = fakeFetch(() => new Response(DIFF, { headers: { 'Content-Type': 'text/plain' } }));
    vi.stubGlobal('fetch', api.fetch);
    const { container } = renderWithApp(<JobDiff projectId={PROJECT_ID} jobId={JOB_ID} />);

    expect(screen.getByRole('status').textContent).toBe('Loading the diff viewer…');
    await screen.findByText('# Edit: a comment line');
    expect(api.calls[0]?.url).toBe(`/api/v1/projects/${PROJECT_ID}/jobs/${JOB_ID}/diff`);
    expect(container.querySelectorAll('.diff-code-insert')).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Unified' }).getAttribute('aria-pressed')).toBe('true');

    await userEvent.setup().click(screen.getByRole('button', { name: 'Split' }));
    expect(container.querySelector('table.diff-split')).not.toBeNull();
    expect(screen.getByRole('button', { name: 'Split' }).getAttribute('aria-pressed')).toBe('true');
  });
});
