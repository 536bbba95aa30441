import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { FileTree } from './file-tree';

const files = [
  { path: 'app.py', size: 120 },
  { path: 'tests/test_app.py', size: 80 },
  { path: '.codex/request.json', size: 300 },
  { path: '.codex/result.json', size: 200 },
];

describe('FileTree', () => {
  it('counts the files it shows: .codex’s only once they are shown', () => {
    render(<FileTree files={files} selected={undefined} onSelect={() => undefined} />);
    expect(screen.getByText('2 files (2 more in .codex)')).toBeTruthy();
    expect(screen.queryByRole('treeitem', { name: /\.codex/ })).toBeNull();

    fireEvent.click(screen.getByLabelText(/Show \.codex/));
    expect(screen.getByText('4 files')).toBeTruthy();
  });

  it('says nothing of .codex when the workspace has none', () => {
    render(<FileTree files={files.slice(0, 1)} selected={undefined} onSelect={() => undefined} />);
    expect(screen.getByText('1 file')).toBeTruthy();
  });
});
