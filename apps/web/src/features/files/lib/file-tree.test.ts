import { describe, expect, it } from 'vitest';
import { buildTree, formatSize, visibleRows } from './file-tree';

const FILES = [
  { path: 'tests/test_cli.py', size: 375 },
  { path: 'app.py', size: 492 },
  { path: '.codex/jobs/j1/job.log', size: 1000 },
  { path: '.codex/result.json', size: 200 },
  { path: 'README.md', size: 248 },
  { path: 'tests/data/a.txt', size: 5 },
];

const names = (rows: ReturnType<typeof visibleRows>) => rows.map((r) => `${'  '.repeat(r.depth)}${r.node.name}`);

describe('the file tree', () => {
  it('puts folders first, then files by name, with folder sizes summed; .codex hidden until asked for', () => {
    const tree = buildTree(FILES);
    expect(names(visibleRows(tree, new Set(), false))).toEqual(['tests', 'app.py', 'README.md']);
    expect(names(visibleRows(tree, new Set(), true))).toEqual(['.codex', 'tests', 'app.py', 'README.md']);
    expect(tree.find((n) => n.name === 'tests')?.size).toBe(380);
    expect(tree.find((n) => n.name === '.codex')?.size).toBe(1200);
  });

  it('shows a folder’s children only while it is open', () => {
    const tree = buildTree(FILES);
    expect(names(visibleRows(tree, new Set(['tests']), false))).toEqual([
      'tests',
      '  data',
      '  test_cli.py',
      'app.py',
      'README.md',
    ]);
    // A closed parent hides an open child.
    expect(names(visibleRows(tree, new Set(['tests/data']), false))).toEqual(['tests', 'app.py', 'README.md']);
  });

  it('builds a 20,000-file tree and shows only the open folders’ rows', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => ({ path: `d${i % 50}/s${i % 7}/f${i}.txt`, size: i }));
    const rows = visibleRows(buildTree(many), new Set(['d1']), false);
    expect(rows.length).toBe(50 + 7);
  });

  it('formats sizes', () => {
    expect([formatSize(12), formatSize(2048), formatSize(5 * 1024 * 1024)]).toEqual(['12 B', '2.0 KB', '5.0 MB']);
  });
});
