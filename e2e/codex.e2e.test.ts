// The real Codex CLI end to end: the built API and a runner process with the docker executor, the
// worker image running `codex exec` against the scripted model server (no network, no API key),
// spoken to over HTTP as a client would: create, poll, read the files, the job's diff, edit, the
// edit's diff, token usage in the job detail.
import Docker from 'dockerode';
import type { ApiClient } from './helpers/api-client';
import { APP_PY, BUILD, EDIT, EDIT_LINE, FAKE_KEY, projectScript, TEST_APP_PY } from './helpers/codex-project';
import { instructionsOf, startModelServer, type ModelServer } from './helpers/model-server';
import { Stack, type SystemProcess } from './helpers/stack';

const HOW_TO =
  'Run `eval "$(bash scripts/container-runtime.sh --env)"` first (podman\'s Docker API and the worker image), or point DOCKER_HOST at a Docker engine and run `pnpm worker:build`.';
const IMAGE = process.env.CODEX_WORKER_IMAGE ?? 'codex-worker:latest';

async function requireDocker(): Promise<Docker> {
  if (!process.env.DOCKER_HOST)
    throw new Error(`DOCKER_HOST is not set: this test runs the worker in containers. ${HOW_TO}`);
  const docker = new Docker();
  await docker.ping().catch((err: Error) => {
    throw new Error(`No Docker API answers at DOCKER_HOST=${process.env.DOCKER_HOST} (${err.message}). ${HOW_TO}`);
  });
  await docker
    .getImage(IMAGE)
    .inspect()
    .catch(() => {
      throw new Error(`The worker image ${IMAGE} is missing. ${HOW_TO}`);
    });
  return docker;
}

describe('the real Codex agent over HTTP, in worker containers', () => {
  let docker: Docker;
  let server: ModelServer;
  let stack: Stack;
  let api: ApiClient;
  let runner: SystemProcess;
  let projectId: string;
  let firstCommit: string;

  beforeAll(async () => {
    docker = await requireDocker();
    server = await startModelServer({ behaviour: { kind: 'script', turns: projectScript() } });
    stack = await Stack.create('codex');
    api = await stack.startApi();
    runner = await stack.startRunner('runner', {
      USE_DUMMY_WORKER: 'false',
      WORKER_EXECUTOR: 'docker',
      WORKER_AGENT: 'codex',
      // The container reaches the model server on the host's loopback.
      WORKER_NETWORK: 'host',
      OPENAI_API_KEY: FAKE_KEY,
      CODEX_BASE_URL: server.url,
      CODEX_MODEL: 'gpt-5.5',
      CODEX_SANDBOX: 'danger-full-access',
      CODEX_TIMEOUT_SECONDS: '100',
      JOB_TIMEOUT_SECONDS: '120',
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await server?.stop();
    if (!docker || !stack) return;
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`cwo.queue-prefix=${stack.database.queuePrefix}`] },
    });
    expect(left.map((c) => c.Names[0])).toEqual([]);
  });

  it('builds a project: completed, files readable, the diff shows them, usage in the job detail', async () => {
    const created = await api.createProject(BUILD);
    projectId = created.id;
    const job = await api.waitForJob(projectId, created.job.id, 90_000);

    expect(job).toMatchObject({
      status: 'completed',
      errors: [],
      summary: 'Created app.py, a Fibonacci CLI, with a test in tests/test_app.py.',
      created_files: ['app.py', 'tests/test_app.py'],
      usage: { input_tokens: 3000, cached_input_tokens: 600, output_tokens: 150 },
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    firstCommit = job.commit;
    const files = (await api.get(`/api/v1/projects/${projectId}/files`)).body.files.map(
      (f: { path: string }) => f.path,
    );
    expect(files).toEqual(expect.arrayContaining(['app.py', 'tests/test_app.py']));
    expect((await api.get(`/api/v1/projects/${projectId}/files/app.py`)).body.contents).toBe(APP_PY);
    expect((await api.get(`/api/v1/${projectId}/files/tests/test_app.py`)).body.contents).toBe(TEST_APP_PY);

    const diff = await api.get(`/api/v1/projects/${projectId}/jobs/${created.job.id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(diff.text).toContain('diff --git a/app.py b/app.py\nnew file mode 100644');
    expect(diff.text).toContain('+++ b/tests/test_app.py');
    expect(diff.text).toContain('+    assert fibonacci(5) == [0, 1, 1, 2, 3]');
    expect(diff.text).not.toContain('.codex');
  });

  it('edits it in the same agent thread: the diff shows the edit alone, with its own usage', async () => {
    const requestsBefore = server.modelRequests.length;
    const edit = await api.addJob(projectId, EDIT);
    expect((await api.get(`/api/v1/projects/${projectId}/jobs/${edit.id}/diff`)).status).toBe(404);
    const job = await api.waitForJob(projectId, edit.id, 90_000);

    expect(job).toMatchObject({
      status: 'completed',
      errors: [],
      modified_files: ['app.py'],
      usage: { input_tokens: 2000, cached_input_tokens: 400, output_tokens: 100 },
    });
    expect(job.commit).not.toBe(firstCommit);
    // Codex resumed the thread: the model got the first instruction and its tool calls again.
    expect(instructionsOf(server.modelRequests[requestsBefore])).toEqual([BUILD, EDIT]);
    expect((await api.get(`/api/v1/projects/${projectId}/files/app.py`)).body.contents).toBe(
      `${APP_PY}\n${EDIT_LINE}\n`,
    );

    const diff = await api.get(`/api/v1/${projectId}/jobs/${edit.id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.text).toMatch(/^diff --git a\/app\.py b\/app\.py\n/);
    expect(diff.text).toContain(`+\n+${EDIT_LINE}\n`);
    expect(diff.text).not.toContain('tests/test_app.py');
    expect(runner.output()).not.toContain(FAKE_KEY);
  });
});
