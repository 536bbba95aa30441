// The real Codex agent through the whole runner (queue, project lock, processor, history), driven
// by the scripted model server: no network, no API key. The same four cases run with the `host`
// executor (the worker entrypoint as a child process: the fast loop) and with the `docker`
// executor (the worker image in a container: the real one).
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Config } from '@cwo/config';
import { WorkerResult } from '@cwo/contracts';
import type { Db, Job } from '@cwo/db';
import { openCommitDiff } from '@cwo/history';
import { listWorkspaceFiles, projectWorkspace } from '@cwo/workspace';
import {
  APP_PY,
  BUILD,
  EDIT,
  EDIT_LINE,
  FAKE_KEY,
  MODEL_ERROR,
  projectScript,
  TEST_APP_PY,
} from '../../../e2e/helpers/codex-project';
import { closedPortUrl, instructionsOf, startModelServer, type ModelServer } from '../../../e2e/helpers/model-server';
import { createDockerExecutor } from '../src/executors/docker';
import { createHostExecutor, DEFAULT_WORKER_ENTRY } from '../src/executors/host';
import { createRunner, type Runner } from '../src/runner';
import {
  addEdit,
  clearPrefix,
  createProject,
  quietLogger,
  readJobLog,
  testConfig,
  testDb,
  testQueue,
  waitFor,
  waitForJob,
} from '../src/__tests__/helpers';
import { ENGINE, ourContainers, requireDockerApi } from './docker-helpers';

/** Every model response reports 1000 input (200 cached) and 50 output tokens. */
export const usageOf = (requests: number) => ({
  inputTokens: 1000 * requests,
  cachedInputTokens: 200 * requests,
  outputTokens: 50 * requests,
});

export async function readAll(stream: Readable | null): Promise<string> {
  if (!stream) throw new Error('the job has no diff');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Processes (other than this one) running in, or naming, a directory: what a stopped job must not leave. */
export function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cwd === dir || cwd.startsWith(`${dir}/`) || cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited meanwhile, or a zombie
    }
  }
  return found;
}

interface Setup {
  config: Config;
  runner: Runner;
  queue: ReturnType<typeof testQueue>;
}

export function codexRunnerSuite(kind: 'host' | 'docker'): void {
  const where = kind === 'docker' ? `docker executor on ${ENGINE}` : 'host executor';
  let db: Db;
  let docker: Docker | undefined;
  let server: ModelServer;
  const setups: Setup[] = [];

  async function startCodexRunner(
    overrides: Record<string, string> = {},
    agentEnv: Record<string, string> = {},
  ): Promise<Setup> {
    const config = testConfig({
      USE_DUMMY_WORKER: 'false',
      WORKER_EXECUTOR: kind,
      WORKER_AGENT: 'codex',
      // The container reaches the model server on the host's loopback.
      WORKER_NETWORK: 'host',
      JOB_TIMEOUT_SECONDS: '120',
      ...overrides,
    });
    const env = {
      ...process.env,
      OPENAI_API_KEY: FAKE_KEY,
      CODEX_BASE_URL: server.url,
      CODEX_MODEL: 'gpt-5.5',
      // In the container, the container is the sandbox (Codex's own fails in some); on the host, Codex's default.
      CODEX_SANDBOX: kind === 'docker' ? 'danger-full-access' : 'workspace-write',
      CODEX_TIMEOUT_SECONDS: '100',
      ...agentEnv,
    };
    const logger = quietLogger();
    const executor =
      kind === 'host' ? createHostExecutor({ config, env }) : createDockerExecutor({ config, logger, env });
    const runner = createRunner({ db, config, logger, executor });
    await runner.start();
    const setup = { config, runner, queue: testQueue(config) };
    setups.push(setup);
    return setup;
  }

  const workspaceOf = (setup: Setup, projectId: string) => projectWorkspace(setup.config.workspaceRoot, projectId);
  const diffOf = async (setup: Setup, job: Job) =>
    readAll(
      await openCommitDiff({
        workspaceRoot: setup.config.workspaceRoot,
        projectId: job.projectId,
        sha: job.commitSha ?? '',
      }),
    );

  beforeAll(async () => {
    db = testDb();
    server = await startModelServer({ behaviour: { kind: 'script', turns: projectScript() } });
    if (kind === 'docker') docker = await requireDockerApi(testConfig().CODEX_WORKER_IMAGE);
    if (kind === 'host' && !fs.existsSync(DEFAULT_WORKER_ENTRY)) {
      throw new Error(`The host executor runs ${DEFAULT_WORKER_ENTRY}: build it first (\`pnpm build\`).`);
    }
  });

  afterEach(async () => {
    if (!docker) return;
    // No container of ours is left, however the job ended.
    const left = (await Promise.all(setups.map((s) => ourContainers(docker!, s.config.QUEUE_PREFIX)))).flat();
    expect(left.map((c) => `${c.Names[0]} (${c.State})`)).toEqual([]);
  });

  afterAll(async () => {
    for (const { runner, queue, config } of setups) {
      await runner.stop(0);
      await queue.close();
      await clearPrefix(config);
    }
    await server?.stop();
    await db?.$disconnect();
  });

  describe(`the codex agent through the runner (${where})`, () => {
    let main: Setup;
    let first: Job;

    beforeAll(async () => {
      main = await startCodexRunner();
    });

    it('builds a project: the job completes with its files, its commit and its token usage', async () => {
      const { projectId, jobId } = await createProject(db, main.config, BUILD);
      await main.queue.enqueue(jobId);
      first = await waitForJob(db, jobId, 90_000);
      const log = await readJobLog(main.config, projectId, jobId);

      expect({ status: first.status, errors: first.errors }).toEqual({ status: 'completed', errors: [] });
      expect(first.summary).toBe('Created app.py, a Fibonacci CLI, with a test in tests/test_app.py.');
      expect(first.createdFiles).toEqual(['app.py', 'tests/test_app.py']);
      const workspace = workspaceOf(main, projectId);
      const listed = (await listWorkspaceFiles(workspace)).map((f) => f.path);
      expect(listed).toEqual(expect.arrayContaining(['app.py', 'tests/test_app.py', '.codex/result.json']));
      expect(fs.readFileSync(`${workspace}/app.py`, 'utf8')).toBe(APP_PY);
      expect(fs.readFileSync(`${workspace}/tests/test_app.py`, 'utf8')).toBe(TEST_APP_PY);

      expect(first).toMatchObject(usageOf(3));
      expect(first.threadId).toMatch(/^[0-9a-f-]{36}$/);
      expect(first.commitSha).toMatch(/^[0-9a-f]{40}$/);
      const diff = await diffOf(main, first);
      expect(diff).toContain('diff --git a/app.py b/app.py\nnew file mode 100644');
      expect(diff).toContain('+def fibonacci(n):');
      expect(diff).toContain('+++ b/tests/test_app.py\n@@ -0,0 +1,5 @@\n+from app import fibonacci');
      expect(diff).not.toContain('.codex');

      // The runner's CODEX_* settings reached the worker (no WORKER_ENV_PASSTHROUGH): the first agent line says so.
      expect(log).toContain(`codex: initial_project job, model gpt-5.5 at ${new URL(server.url).host}, sandbox `);
      expect(log).toContain('file add tests/test_app.py');
      expect(log).toMatch(/history: committed the job's changes as [0-9a-f]{12} \(\d+ ms\)/);
      expect(log).not.toContain(FAKE_KEY);
      // The worker protocol's presence lines, in the job log and first in result.json's logs.
      const presence = ['OPENAI_API_KEY=present', 'OPENAI_ORG_ID=absent', 'OPENAI_PROJECT=absent'];
      for (const line of presence) expect(log).toMatch(new RegExp(`\\[agent\\] ${line}$`, 'm'));
      const result = WorkerResult.parse(JSON.parse(fs.readFileSync(`${workspace}/${first.resultPath}`, 'utf8')));
      expect(result.logs.slice(0, 3)).toEqual(presence);
      expect(JSON.stringify(result)).not.toContain(FAKE_KEY);
    });

    it('edits it in the same agent thread: the model sees the earlier turn; the commit holds the edit only', async () => {
      const requestsBefore = server.modelRequests.length;
      const editId = await addEdit(db, first.projectId, EDIT);
      await main.queue.enqueue(editId);
      const edit = await waitForJob(db, editId, 90_000);

      expect({ status: edit.status, errors: edit.errors }).toEqual({ status: 'completed', errors: [] });
      expect(edit.modifiedFiles).toEqual(['app.py']);
      expect(edit.threadId).toBe(first.threadId);
      expect(edit).toMatchObject(usageOf(2));
      const resumed = server.modelRequests[requestsBefore];
      expect(instructionsOf(resumed)).toEqual([BUILD, EDIT]);
      const calls = resumed.input.filter(
        (i: { type: string }) => i.type === 'function_call' || i.type === 'custom_tool_call',
      );
      expect(calls.map((c: { name: string }) => c.name)).toEqual(['exec_command', 'apply_patch']);

      expect(fs.readFileSync(`${workspaceOf(main, first.projectId)}/app.py`, 'utf8')).toBe(`${APP_PY}\n${EDIT_LINE}\n`);
      const diff = await diffOf(main, edit);
      expect(diff).toContain(`--- a/app.py\n+++ b/app.py`);
      expect(diff).toContain(`+${EDIT_LINE}`);
      expect(diff).not.toContain('tests/test_app.py');
      expect(edit.commitSha).not.toBe(first.commitSha);
    });

    it('ends the job in error with the model API’s message when it answers 400', async () => {
      server.setBehaviour({ kind: 'fail', status: 400, message: MODEL_ERROR });
      try {
        const { projectId, jobId } = await createProject(db, main.config, 'Build something');
        await main.queue.enqueue(jobId);
        const job = await waitForJob(db, jobId, 90_000);

        expect({ status: job.status, errors: job.errors }).toEqual({ status: 'error', errors: [MODEL_ERROR] });
        expect(job.errorCode).toBe('agent_error');
        expect(job.summary).toBe(`Codex failed: ${MODEL_ERROR}`);
        expect(await readJobLog(main.config, projectId, jobId)).toContain(`error: ${MODEL_ERROR}`);
        expect(job).toMatchObject({ inputTokens: null, outputTokens: null });
        // A failed job has its (empty) commit too.
        expect(await diffOf(main, job)).toBe('');
      } finally {
        server.setBehaviour({ kind: 'script', turns: projectScript() });
      }
    });
  });

  describe(`a model endpoint nothing listens on (${where})`, () => {
    it('ends the job in error after CODEX_CONNECT_TIMEOUT_SECONDS, not the job time limit, saying where', async () => {
      const closed = await closedPortUrl();
      const setup = await startCodexRunner(
        { JOB_TIMEOUT_SECONDS: '600' },
        { CODEX_BASE_URL: closed, CODEX_CONNECT_TIMEOUT_SECONDS: '2', CODEX_TIMEOUT_SECONDS: '500' },
      );
      const { projectId, jobId } = await createProject(db, setup.config, 'Build something');
      await setup.queue.enqueue(jobId);
      const job = await waitForJob(db, jobId, 90_000);

      const cause = `model endpoint unreachable at ${closed} (Connection failed: error sending request; none within 2 s, CODEX_CONNECT_TIMEOUT_SECONDS)`;
      expect({ status: job.status, errorCode: job.errorCode, errors: job.errors }).toEqual({
        status: 'error',
        errorCode: 'model_unreachable',
        errors: [cause],
      });
      expect(await readJobLog(setup.config, projectId, jobId)).toContain(`error: ${cause}`);
      expect(processesUsing(workspaceOf(setup, projectId))).toEqual([]);
    });
  });

  describe(`a model that never answers (${where})`, () => {
    it(`times the job out and leaves no ${kind === 'docker' ? 'container' : 'process'} behind`, async () => {
      const setup = await startCodexRunner({ JOB_TIMEOUT_SECONDS: kind === 'docker' ? '5' : '3' });
      server.setBehaviour({ kind: 'hang' });
      const requestsBefore = server.modelRequests.length;
      const { projectId, jobId } = await createProject(db, setup.config, 'Build something');
      await setup.queue.enqueue(jobId);
      const workspace = workspaceOf(setup, projectId);
      // While it waits on the model, the agent is there to be stopped.
      await waitFor('the model request', async () => server.modelRequests.length > requestsBefore, 30_000);
      if (docker) expect(await ourContainers(docker, setup.config.QUEUE_PREFIX)).toHaveLength(1);
      else expect(processesUsing(workspace).length).toBeGreaterThan(0);
      const job = await waitForJob(db, jobId, 60_000);

      expect({ status: job.status, errors: job.errors }).toEqual({ status: 'error', errors: ['timeout'] });
      expect(job.errorCode).toBe('timeout');
      expect(processesUsing(workspace)).toEqual([]);
      if (docker) expect(await ourContainers(docker, setup.config.QUEUE_PREFIX)).toEqual([]);
      expect(await readJobLog(setup.config, projectId, jobId)).toMatch(
        kind === 'docker' ? /docker: container \w{12} killed after/ : /host: worker process stopped after/,
      );
    });
  });

  describe(`a model endpoint that is down (${where})`, () => {
    it('ends the job with model_unreachable, saying where the model was looked for', async () => {
      // A port nothing listens on (just freed): every connection to it is refused.
      const down = await startModelServer({ behaviour: { kind: 'hang' } });
      const url = down.url;
      await down.stop();
      const setup = await startCodexRunner({}, { CODEX_BASE_URL: url, CODEX_TIMEOUT_SECONDS: '4' });
      const { projectId, jobId } = await createProject(db, setup.config, 'Build something');
      await setup.queue.enqueue(jobId);
      const job = await waitForJob(db, jobId, 60_000);

      expect(job).toMatchObject({ status: 'error', errorCode: 'model_unreachable' });
      expect(job.errors).toEqual([
        `could not reach the model at ${new URL(url).host} (Connection failed: error sending request); gave up after 4 s (CODEX_TIMEOUT_SECONDS)`,
      ]);
      expect(await readJobLog(setup.config, projectId, jobId)).toContain('waiting for network');
    });
  });
}
