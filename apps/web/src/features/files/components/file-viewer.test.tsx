import { screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { FileContent } from '@cwo/contracts';
import { fakeFetch, json, renderWithApp } from '../../../test/render';
import { PROJECT_ID } from '../../../test/fixtures';
import { FileViewer } from './lazy-file-viewer';

describe('FileViewer (loaded on demand)', () => {
  it('says it is loading while its code comes, then shows the file as text, highlighted', async () => {
    const file: FileContent = { path: 'app.py', contents: 'def fibonacci(n):\n    return n\n' };
    vi.stubGlobal('fetch', fakeFetch(() => json(200, file)).fetch);
    renderWithApp(<FileViewer projectId={PROJECT_ID} path="app.py" size={31} />);

    // Before its chunk is there: a status a screen reader announces, not an empty box.
    expect(screen.getByRole('status').textContent).toBe('Loading the file viewer…');
    const code = await screen.findByLabelText('Contents of app.py');
    expect(code.textContent).toContain('def fibonacci(n):');
    expect(screen.queryByText('Loading the file viewer…')).toBeNull();
    // Shiki's tokens, coloured for both schemes, once its grammar has loaded.
    await vi.waitFor(() => expect(code.querySelector('span[style*="color"]')).not.toBeNull());
  });

  it('offers a binary file as a download, with its size', async () => {
    const raw = new Response(new Uint8Array([0, 1, 2, 255]), {
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    vi.stubGlobal('fetch', fakeFetch(() => raw).fetch);
    renderWithApp(<FileViewer projectId={PROJECT_ID} path="logo.bin" size={4} />);

    await screen.findByText('This file is binary or too large to show here; download it to look at it.');
    const link = screen.getByRole('link', { name: 'Download (4 B)' });
    expect(link.getAttribute('href')).toBe(`/api/v1/projects/${PROJECT_ID}/files/logo.bin?raw=1`);
  });
});
