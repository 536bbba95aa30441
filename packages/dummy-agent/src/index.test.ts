import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { WorkerRequest } from '@cwo/contracts';
import { runDummyAgent } from './index';

const request = (job_type: WorkerRequest['job_type'], instruction: string): WorkerRequest => ({
  project_id: randomUUID(),
  job_id: randomUUID(),
  job_type,
  instruction,
  history: [],
  checks: [],
  fix_attempts: 0,
});

describe('the dummy agent', () => {
  let ws: string;
  beforeEach(async () => {
    ws = await fs.mkdtemp(path.join(os.tmpdir(), 'dummy-agent-'));
  });
  afterEach(() => fs.rm(ws, { recursive: true, force: true }));

  it('creates the Fibonacci project: README.md, app.py, tests/test_cli.py', async () => {
    const result = await runDummyAgent(ws, request('initial_project', 'a Fibonacci CLI'));
    expect(result.status).toBe('success');
    expect(result.created_files.sort()).toEqual(['README.md', 'app.py', 'tests/test_cli.py']);
    const app = await fs.readFile(path.join(ws, 'app.py'), 'utf8');
    expect(app).toContain('def fibonacci(n)');
    expect(await fs.readFile(path.join(ws, 'tests/test_cli.py'), 'utf8')).toContain(
      '[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]',
    );
  });

  it('an edit appends one comment line describing the instruction to app.py', async () => {
    await runDummyAgent(ws, request('initial_project', 'a Fibonacci CLI'));
    const before = await fs.readFile(path.join(ws, 'app.py'), 'utf8');
    const result = await runDummyAgent(ws, request('edit', 'Add a --count flag\nplease'));
    const after = await fs.readFile(path.join(ws, 'app.py'), 'utf8');
    expect(after).toBe(`${before}# Edit: Add a --count flag please\n`);
    expect(result.modified_files).toEqual(['app.py']);
  });

  it('force_error ends in error with errors ["forced_error"] and writes nothing', async () => {
    const lines: string[] = [];
    const result = await runDummyAgent(ws, request('initial_project', 'please force_error now'), (l) => lines.push(l));
    expect(result.status).toBe('error');
    expect(result.errors).toEqual(['forced_error']);
    expect(await fs.readdir(ws)).toEqual([]);
    expect(lines.join('\n')).toMatch(/forced error/);
  });
});
