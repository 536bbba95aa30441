import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Executor } from './executors/types';
import { readResultFile, ResultFileError, type ResultProblem } from './result-file';
import { createProject, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

const VALID = {
  status: 'success',
  summary: 'ok',
  created_files: ['a.txt'],
  modified_files: [],
  deleted_files: [],
  errors: [],
  logs: [],
};

describe('reading result.json as untrusted input', () => {
  let ws: string;
  beforeEach(async () => {
    ws = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-result-'));
    await fs.mkdir(path.join(ws, '.codex'));
  });
  afterEach(() => fs.rm(ws, { recursive: true, force: true }));

  const writeResult = (contents: string) => fs.writeFile(path.join(ws, '.codex/result.json'), contents);

  async function problemOf(maxBytes?: number): Promise<{ problem: ResultProblem; message: string }> {
    try {
      readResultFile(ws, maxBytes);
    } catch (err) {
      if (err instanceof ResultFileError) return { problem: err.problem, message: err.message };
      throw err;
    }
    throw new Error('expected the result to be refused');
  }

  it('accepts a valid result and keeps its bytes', async () => {
    await writeResult(JSON.stringify(VALID));
    const { result, raw } = readResultFile(ws);
    expect(result).toMatchObject({ status: 'success', created_files: ['a.txt'] });
    expect(raw.toString()).toBe(JSON.stringify(VALID));
  });

  it('says the file is missing', async () => {
    expect(await problemOf()).toEqual({
      problem: 'missing',
      message: expect.stringMatching(/result\.json is missing/),
    });
  });

  it('says the file is too large, before parsing it', async () => {
    await writeResult(JSON.stringify({ ...VALID, summary: 'x'.repeat(2000) }));
    expect(await problemOf(1000)).toEqual({
      problem: 'too_large',
      message: expect.stringMatching(/too large: \d+ bytes \(the limit is 1000\)/),
    });
  });

  it('says the file is not JSON', async () => {
    await writeResult('{"status": "success",');
    expect(await problemOf()).toEqual({ problem: 'not_json', message: expect.stringMatching(/not valid JSON/) });
  });

  it('names the field that breaks the schema', async () => {
    await writeResult(JSON.stringify({ ...VALID, status: 'done', created_files: 'a.txt' }));
    const { problem, message } = await problemOf();
    expect(problem).toBe('schema');
    expect(message).toMatch(/status/);
    expect(message).toMatch(/created_files/);
  });

  it.each([
    ['../outside.txt', 'traversal'],
    ['/etc/passwd', 'absolute path'],
    ['%2e%2e/secret', 'traversal'],
    ['C:\\Windows\\system.ini', 'drive path'],
  ])('refuses a listed path that leaves the workspace: %s', async (listed, reason) => {
    await writeResult(JSON.stringify({ ...VALID, deleted_files: ['ok.txt', listed] }));
    const { problem, message } = await problemOf();
    expect(problem).toBe('path');
    expect(message).toContain('deleted_files');
    expect(message).toContain(reason);
  });

  it('does not follow a result.json that is a symlink (it could point at any file of the host)', async () => {
    await fs.symlink('/etc/hostname', path.join(ws, '.codex/result.json'));
    expect((await problemOf()).problem).toBe('not_a_file');
  });

  it('does not read through a .codex that is a symlink', async () => {
    const elsewhere = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-elsewhere-'));
    await fs.writeFile(path.join(elsewhere, 'result.json'), JSON.stringify(VALID));
    await fs.rm(path.join(ws, '.codex'), { recursive: true });
    await fs.symlink(elsewhere, path.join(ws, '.codex'));
    expect((await problemOf()).problem).toBe('not_a_file');
    await fs.rm(elsewhere, { recursive: true });
  });
});

describe('a job whose agent writes a bad result.json ends in error saying why', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  const config = testConfig();
  const queue = harness.queue(config);
  // An executor standing in for an agent that misbehaves: it writes whatever the test says.
  let writeBadResult: (workspace: string) => Promise<void> = async () => undefined;
  const badAgent: Executor = { name: 'dummy', run: ({ workspace }) => writeBadResult(workspace) };

  beforeAll(async () => {
    await harness.startRunner(config, badAgent);
  });

  it.each([
    ['no result.json at all', async () => undefined, /result\.json is missing/],
    ['invalid JSON', (ws: string) => fs.writeFile(path.join(ws, '.codex/result.json'), 'not json'), /not valid JSON/],
    [
      'a path outside the workspace',
      (ws: string) =>
        fs.writeFile(
          path.join(ws, '.codex/result.json'),
          JSON.stringify({ ...VALID, modified_files: ['../../etc/passwd'] }),
        ),
      /path outside the workspace/,
    ],
  ])('%s', async (_name, write, expected) => {
    writeBadResult = async (ws) => {
      await fs.writeFile(path.join(ws, 'made.txt'), 'the agent did make this');
      await write(ws);
    };
    const { jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId);
    expect(job.status).toBe('error');
    expect(job.errors).toEqual([expect.stringMatching(expected)]);
    expect(job.attempts).toBe(1); // final, not retried
    expect(job.createdFiles).toEqual(['made.txt']); // the runner's own diff still says what changed
    expect(job.resultPath).toBeNull();
  });
});
