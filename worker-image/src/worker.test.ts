import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkerResult } from '@cwo/contracts';
import { requestFile, resultFile } from '@cwo/workspace';
import { runWorker } from './worker';

// The entrypoint's logic in-process, on a temporary workspace (the container tests in apps/runner
// run it for real in the image).

const SECRET = 'sk-live-abcdef0123456789-never-in-a-log';
const request = {
  project_id: '2f4c8d36-1c1e-4f55-9a57-1d0e6e7c0a01',
  job_id: '2f4c8d36-1c1e-4f55-9a57-1d0e6e7c0a02',
  job_type: 'initial_project',
  instruction: 'Build the Fibonacci CLI',
};

let workspace: string;
beforeEach(async () => {
  workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-worker-'));
});
afterEach(async () => {
  await fs.chmod(workspace, 0o755).catch(() => undefined);
  await fs.rm(workspace, { recursive: true, force: true });
});

async function writeRequest(value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(requestFile(workspace)), { recursive: true });
  await fs.writeFile(requestFile(workspace), typeof value === 'string' ? value : JSON.stringify(value));
}

async function run(env: NodeJS.ProcessEnv = {}, signal = new AbortController().signal) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runWorker({ workspace, env, log: (l) => void out.push(l), fail: (l) => void err.push(l), signal });
  const result = await fs
    .readFile(resultFile(workspace), 'utf8')
    .then((t) => WorkerResult.parse(JSON.parse(t)))
    .catch(() => null);
  return { code, out, err, result };
}

describe('worker entrypoint', () => {
  it('runs the dummy agent by default and writes its result', async () => {
    await writeRequest(request);
    const { code, out, result } = await run({});
    expect(code).toBe(0);
    expect(result).toMatchObject({ status: 'success', created_files: ['README.md', 'app.py', 'tests/test_cli.py'] });
    expect(await fs.readFile(path.join(workspace, 'app.py'), 'utf8')).toContain('def fibonacci');
    expect(out).toContain('worker: running the dummy agent');
    // Written in one step: no temporary file left beside it.
    expect(await fs.readdir(path.dirname(resultFile(workspace)))).toEqual(['request.json', 'result.json']);
  });

  it('says whether each OPENAI_* variable is present, never its value, in the job log and in result.json', async () => {
    await writeRequest(request);
    const { out, result } = await run({ OPENAI_API_KEY: SECRET, OPENAI_BASE_URL: 'https://gateway.example/v1' });
    const presence = [
      'OPENAI_API_KEY=present',
      'OPENAI_BASE_URL=present',
      'OPENAI_ORG_ID=absent',
      'OPENAI_PROJECT=absent',
    ];
    expect(out).toEqual(expect.arrayContaining(presence));
    // First in result.json's logs, before the agent's own lines.
    expect(result?.logs.slice(0, 4)).toEqual(presence);
    expect(result?.logs).toContain('wrote app.py');
    for (const text of [out.join('\n'), JSON.stringify(result)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('gateway.example');
    }
  });

  it('writes the presence lines into an error result too', async () => {
    const { result } = await run({ OPENAI_PROJECT: 'proj_1' });
    expect(result?.status).toBe('error');
    expect(result?.logs).toEqual(['OPENAI_API_KEY=absent', 'OPENAI_ORG_ID=absent', 'OPENAI_PROJECT=present']);
  });

  it('writes an error result, and exits 0, when request.json is not valid', async () => {
    await writeRequest({ ...request, job_type: 'rewrite' });
    const { code, result } = await run();
    expect(code).toBe(0);
    expect(result?.status).toBe('error');
    expect(result?.errors.join()).toMatch(/job_type/);
  });

  it('writes an error result when request.json is missing or not JSON', async () => {
    expect((await run()).result?.errors.join()).toMatch(/cannot read .*request\.json: ENOENT/);
    await writeRequest('{ not json');
    expect((await run()).result?.errors.join()).toMatch(/request\.json is not JSON/);
  });

  it('writes an error result naming the known agents when WORKER_AGENT names none', async () => {
    await writeRequest(request);
    const { code, result } = await run({ WORKER_AGENT: 'nope' });
    expect(code).toBe(0);
    expect(result?.errors).toEqual(['WORKER_AGENT names no agent of this worker image: "nope" (known: dummy, codex)']);
    expect(result?.error_code).toBe('configuration');
  });

  it('offers the diagnostic agents only when WORKER_TEST_AGENTS=true', async () => {
    await writeRequest(request);
    const stopped = AbortSignal.abort(); // the sleep agent returns at once when stopped
    expect((await run({ WORKER_AGENT: 'sleep' }, stopped)).result?.errors.join()).toMatch(/names no agent/);
    const slept = await run({ WORKER_AGENT: 'sleep', WORKER_TEST_AGENTS: 'true' }, stopped);
    expect(slept.result).toMatchObject({ status: 'success', summary: 'slept' });
  });

  it("passes on the dummy agent's forced error as the job's result", async () => {
    await writeRequest({ ...request, instruction: 'force_error please' });
    const { code, result } = await run();
    expect(code).toBe(0);
    expect(result).toMatchObject({ status: 'error', errors: ['forced_error'], error_code: 'forced_error' });
  });

  it('exits non-zero when it cannot write a result', async () => {
    if (process.getuid?.() === 0) {
      // Root writes anywhere: make .codex/result.json a directory that rename cannot replace.
      await writeRequest(request);
      await fs.mkdir(path.join(resultFile(workspace), 'x'), { recursive: true });
    } else {
      await writeRequest(request);
      await fs.chmod(path.dirname(resultFile(workspace)), 0o555);
    }
    const { code, err } = await run();
    expect(code).toBe(1);
    expect(err.join()).toMatch(/cannot write the result/);
  });
});
