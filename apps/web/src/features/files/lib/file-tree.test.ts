import { describe, expect, it } from 'vitest';
import { buildTree, formatSize, treeKeyAction, visibleRows } from './file-tree';

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

describe('the file tree’s keys (WAI-ARIA tree pattern)', () => {
  const tree = buildTree(FILES);
  // tests/ (open), tests/data/, tests/test_cli.py, app.py, README.md
  const rows = visibleRows(tree, new Set(['tests']), false);
  const at = (path: string) => rows.findIndex((r) => r.node.path === path);

  it('moves up and down, to the first and the last row, without leaving the tree', () => {
    expect(treeKeyAction(rows, 0, 'ArrowDown')).toEqual({ kind: 'move', index: 1 });
    expect(treeKeyAction(rows, rows.length - 1, 'ArrowDown')).toEqual({ kind: 'move', index: rows.length - 1 });
    expect(treeKeyAction(rows, 0, 'ArrowUp')).toEqual({ kind: 'move', index: 0 });
    expect(treeKeyAction(rows, 2, 'Home')).toEqual({ kind: 'move', index: 0 });
    expect(treeKeyAction(rows, 0, 'End')).toEqual({ kind: 'move', index: rows.length - 1 });
  });

  it('opens a closed folder with →, then goes to its first child; ← closes it, or goes to the parent', () => {
    expect(treeKeyAction(rows, at('tests/data'), 'ArrowRight')).toEqual({ kind: 'toggle', path: 'tests/data' });
    expect(treeKeyAction(rows, at('tests'), 'ArrowRight')).toEqual({ kind: 'move', index: at('tests/data') });
    expect(treeKeyAction(rows, at('tests'), 'ArrowLeft')).toEqual({ kind: 'toggle', path: 'tests' });
    expect(treeKeyAction(rows, at('tests/test_cli.py'), 'ArrowLeft')).toEqual({ kind: 'move', index: at('tests') });
    expect(treeKeyAction(rows, at('app.py'), 'ArrowRight')).toBeUndefined();
    expect(treeKeyAction(rows, at('app.py'), 'ArrowLeft')).toBeUndefined();
  });

  it('opens a file with Enter, and opens or closes a folder', () => {
    expect(treeKeyAction(rows, at('app.py'), 'Enter')).toEqual({ kind: 'open-file', path: 'app.py' });
    expect(treeKeyAction(rows, at('tests'), 'Enter')).toEqual({ kind: 'toggle', path: 'tests' });
    expect(treeKeyAction(rows, at('app.py'), 'x')).toBeUndefined();
  });

  it('numbers each row among its siblings (a virtual list has not all of them in the page)', () => {
    expect(rows.map((r) => `${r.node.name} ${r.position}/${r.siblings}`)).toEqual([
      'tests 1/3',
      'data 1/2',
      'test_cli.py 2/2',
      'app.py 2/3',
      'README.md 3/3',
    ]);
  });
});
