import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jobLogFile } from '@cwo/workspace';
import { openJobLog } from './job-log';
import { prepareWorkspace } from './prepare-workspace';
import { quietLogger } from './__tests__/helpers';

const JOB = '6f1c1a0e-4a7b-4d2c-9a51-5f0f7c1d2e3a';
const EARLIER = '0b9f3c1e-2d4a-4e6f-8a1b-3c5d7e9f1a2b';
const PROJECT = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';

describe('a job’s log file', () => {
  let ws: string;
  beforeEach(async () => {
    ws = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-log-'));
  });
  afterEach(() => fs.rm(ws, { recursive: true, force: true }));

  it('has one timestamped line per step or output line, with its source, and keeps no secret', async () => {
    const log = openJobLog(ws, JOB, quietLogger());
    log.step('attempt 1 started');
    log.agent('calling https://user:hunter2@example.com with Bearer abc.def.ghi and sk-proj-ABCDEFGH12345678');
    log.agent('two\nlines');
    log.close();
    const lines = (await fs.readFile(jobLogFile(ws, JOB), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[runner\] attempt 1 started$/);
    expect(lines[1]).toMatch(
      /\[agent\] calling https:\/\/user:\[REDACTED\]@example\.com with Bearer \[REDACTED\] and sk-\[REDACTED\]$/,
    );
    expect(lines.join('\n')).not.toMatch(/hunter2|abc\.def\.ghi|ABCDEFGH12345678/);
    expect(lines[2]).toMatch(/\[agent\] two$/);
    expect(lines[3]).toMatch(/\[agent\] lines$/);
  });

  it('appends across attempts and is readable while it is written', async () => {
    const first = openJobLog(ws, JOB, quietLogger());
    first.step('attempt 1');
    first.close();
    const second = openJobLog(ws, JOB, quietLogger());
    second.step('attempt 2');
    await new Promise((r) => setTimeout(r, 50));
    expect(await fs.readFile(jobLogFile(ws, JOB), 'utf8')).toMatch(/attempt 1\n.*attempt 2\n$/);
    second.close();
  });

  it('holds every line written so far once flushed, while it stays open for more', async () => {
    const log = openJobLog(ws, JOB, quietLogger());
    for (let i = 0; i < 200; i++) log.agent(`line ${i} ${'x'.repeat(1000)}`);
    log.step('finished: completed');
    log.flush();
    const text = await fs.readFile(jobLogFile(ws, JOB), 'utf8');
    expect(text.trimEnd().split('\n')).toHaveLength(201);
    expect(text).toMatch(/\[runner\] finished: completed\n$/);
    log.step('after the flush');
    log.close();
    expect(await fs.readFile(jobLogFile(ws, JOB), 'utf8')).toMatch(/after the flush\n$/);
  });

  it('keeps at most JOB_LOG_MAX_BYTES of agent output over all attempts, says so, and still writes the runner’s lines', async () => {
    const max = 64 * 1024;
    const first = openJobLog(ws, JOB, quietLogger(), max);
    first.step('attempt 1');
    for (let i = 0; i < 1000; i++) first.agent(`noise ${i} ${'x'.repeat(200)}`);
    first.step('finished attempt 1');
    first.close();
    const second = openJobLog(ws, JOB, quietLogger(), max);
    second.step('attempt 2');
    second.agent('more noise');
    second.step('finished: completed');
    second.close();

    const text = await fs.readFile(jobLogFile(ws, JOB), 'utf8');
    const agentBytes = text
      .split('\n')
      .filter((l) => l.includes('[agent]'))
      .reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    expect(agentBytes).toBeLessThanOrEqual(max);
    expect(agentBytes).toBeGreaterThan(max - 1024);
    expect(Buffer.byteLength(text)).toBeLessThan(max + 2048);
    expect(text).toMatch(/\[runner\] the log reached JOB_LOG_MAX_BYTES \(65536 bytes\)/);
    expect(text).not.toContain('more noise');
    expect(text).toMatch(/\[runner\] finished attempt 1\n[\s\S]*\[runner\] attempt 2\n/);
    expect(text).toMatch(/\[runner\] finished: completed\n$/);
  });

  it('is written in a real directory even when an agent replaced the job’s directory with a link elsewhere', async () => {
    const elsewhere = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-elsewhere-'));
    await fs.mkdir(path.join(ws, '.codex', 'jobs'), { recursive: true });
    await fs.symlink(elsewhere, path.join(ws, '.codex', 'jobs', JOB));
    const log = openJobLog(ws, JOB, quietLogger());
    log.step('hello');
    log.close();
    expect((await fs.lstat(path.join(ws, '.codex', 'jobs', JOB))).isDirectory()).toBe(true);
    expect(await fs.readdir(elsewhere)).toEqual([]);
    await fs.rm(elsewhere, { recursive: true });
  });
});

describe('preparing the workspace for a job', () => {
  let ws: string;
  beforeEach(async () => {
    ws = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-prep-'));
  });
  afterEach(() => fs.rm(ws, { recursive: true, force: true }));

  const request = (jobId: string) => ({
    project_id: PROJECT,
    job_id: jobId,
    job_type: 'edit' as const,
    instruction: 'x',
    history: [],
    checks: [],
    fix_attempts: 0,
  });

  it('moves the earlier job’s result.json into that job’s directory and writes request.json with a copy', async () => {
    prepareWorkspace(ws, request(EARLIER), () => undefined);
    await fs.writeFile(path.join(ws, '.codex/result.json'), '{"status":"success"}');
    const steps: string[] = [];
    prepareWorkspace(ws, request(JOB), (m) => steps.push(m));
    await expect(fs.stat(path.join(ws, '.codex/result.json'))).rejects.toThrow();
    expect(await fs.readFile(path.join(ws, `.codex/jobs/${EARLIER}/result.json`), 'utf8')).toBe('{"status":"success"}');
    expect(JSON.parse(await fs.readFile(path.join(ws, '.codex/request.json'), 'utf8')).job_id).toBe(JOB);
    expect(await fs.readFile(path.join(ws, `.codex/jobs/${JOB}/request.json`), 'utf8')).toBe(
      await fs.readFile(path.join(ws, '.codex/request.json'), 'utf8'),
    );
    expect(steps[0]).toMatch(new RegExp(`moved the result.json of job ${EARLIER}`));
  });

  it('removes a result.json left by an earlier attempt of the same job, and never follows a linked one', async () => {
    prepareWorkspace(ws, request(JOB), () => undefined);
    await fs.writeFile(path.join(ws, '.codex/result.json'), '{}');
    prepareWorkspace(ws, request(JOB), () => undefined);
    await expect(fs.stat(path.join(ws, '.codex/result.json'))).rejects.toThrow();

    const outside = path.join(ws, '..', `outside-${path.basename(ws)}.json`);
    await fs.writeFile(outside, 'keep me');
    await fs.symlink(outside, path.join(ws, '.codex/result.json'));
    prepareWorkspace(ws, request(EARLIER), () => undefined);
    expect(await fs.readFile(outside, 'utf8')).toBe('keep me');
    await expect(fs.lstat(path.join(ws, '.codex/result.json'))).rejects.toThrow();
    await fs.rm(outside);
  });
});
