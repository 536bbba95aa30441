// The real `codex` binary against the scripted model server: no network, no API key.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkerResult, type WorkerRequest } from '@cwo/contracts';
import {
  ModelServer,
  addFilePatch,
  assistantMessage,
  closedPortUrl,
  execCommand,
  instructionsOf,
  startModelServer,
} from '../../../e2e/helpers/model-server';
import { APP_PY, FAKE_KEY, TEST_APP_PY } from '../../../e2e/helpers/codex-project';
import { runCodexAgent, type CodexAgentOptions } from './codex';

/** Turn one builds the project (4 model requests); turn two edits it (2 requests). */
function projectScript() {
  return [
    [
      execCommand(`cat > app.py <<'EOF'\n${APP_PY}EOF`),
      addFilePatch('tests/test_app.py', TEST_APP_PY),
      execCommand('python3 app.py 5'),
      assistantMessage('Created app.py, a Fibonacci CLI, with a test in tests/test_app.py.'),
    ],
    [
      execCommand(`printf '\\n# Edited: prints Fibonacci numbers\\n' >> app.py`),
      assistantMessage('Added a comment to app.py.'),
    ],
  ];
}

function request(
  jobType: WorkerRequest['job_type'],
  instruction: string,
  extra: Partial<WorkerRequest> = {},
): WorkerRequest {
  return {
    project_id: randomUUID(),
    job_id: randomUUID(),
    job_type: jobType,
    instruction,
    history: [],
    checks: [],
    fix_attempts: 0,
    ...extra,
  };
}

/** Processes whose command line mentions this text (the workspace path is on codex's). */
function processesMatching(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('runCodexAgent with the real codex binary', () => {
  let server: ModelServer;
  let workspace: string;
  let lines: string[];
  const log = (line: string) => lines.push(line);

  const options = (env: Record<string, string> = {}, extra: CodexAgentOptions = {}): CodexAgentOptions => ({
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      OPENAI_API_KEY: FAKE_KEY,
      CODEX_BASE_URL: server.url,
      CODEX_MODEL: 'gpt-5.5',
      CODEX_TIMEOUT_SECONDS: '60',
      ...env,
    },
    ...extra,
  });

  beforeEach(async () => {
    workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'codex-agent-'));
    lines = [];
  });

  afterEach(async () => {
    await server?.stop();
    await fs.rm(workspace, { recursive: true, force: true });
  });

  test.each(['workspace-write', 'danger-full-access'])(
    'builds a project through exec_command and apply_patch (sandbox %s)',
    async (sandbox) => {
      server = await startModelServer({ behaviour: { kind: 'script', turns: projectScript() } });

      const result = await runCodexAgent(
        workspace,
        request('initial_project', 'A Python CLI that prints Fibonacci numbers, with a test'),
        log,
        options({ CODEX_SANDBOX: sandbox }),
      );

      expect(result.errors).toEqual([]);
      expect(result.status).toBe('success');
      expect(WorkerResult.parse(result)).toEqual(result); // what the runner will accept
      expect(await fs.readFile(path.join(workspace, 'app.py'), 'utf8')).toBe(APP_PY);
      expect(await fs.readFile(path.join(workspace, 'tests/test_app.py'), 'utf8')).toBe(TEST_APP_PY);
      expect(result.summary).toBe('Created app.py, a Fibonacci CLI, with a test in tests/test_app.py.');
      // Four model requests (one per tool call, one for the answer) of 1000/200/50 tokens each.
      expect(server.modelRequests).toHaveLength(4);
      expect(result.usage).toEqual({ input_tokens: 4000, cached_input_tokens: 800, output_tokens: 200 });
      expect(result.thread_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.created_files).toEqual(['tests/test_app.py']);

      // The log reads as a transcript, line by line as it happened.
      expect(lines).toContain('$ python3 app.py 5');
      expect(lines).toContain('  0 1 1 2 3');
      expect(lines.filter((l) => l === 'exit 0')).toHaveLength(2);
      expect(lines).toContain('file add tests/test_app.py');
      expect(lines).toContain('codex: Created app.py, a Fibonacci CLI, with a test in tests/test_app.py.');
      expect(result.logs).toEqual(lines);

      // Codex sent what we configured; the key reached the model server and nothing else.
      const [first] = server.modelRequests;
      expect(first.model).toBe('gpt-5.5');
      expect(instructionsOf(first)).toEqual(['A Python CLI that prints Fibonacci numbers, with a test']);
      expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${FAKE_KEY}`);
      expect(JSON.stringify(result)).not.toContain(FAKE_KEY);
    },
  );

  test('an edit resumes the project thread: the model sees the earlier turn', async () => {
    server = await startModelServer({ behaviour: { kind: 'script', turns: projectScript() } });
    const first = await runCodexAgent(workspace, request('initial_project', 'Build the Fibonacci CLI'), log, options());
    expect(first.status).toBe('success');
    const requestsBefore = server.modelRequests.length;

    const edit = await runCodexAgent(
      workspace,
      request('edit', 'Add a comment to app.py', { thread_id: first.thread_id }),
      log,
      options(),
    );

    expect(edit.errors).toEqual([]);
    expect(edit.status).toBe('success');
    expect(edit.thread_id).toBe(first.thread_id);
    expect(edit.summary).toBe('Added a comment to app.py.');
    expect(await fs.readFile(path.join(workspace, 'app.py'), 'utf8')).toBe(
      `${APP_PY}\n# Edited: prints Fibonacci numbers\n`,
    );
    // The resumed request carries the whole conversation: both instructions and turn one's tool calls.
    const resumed = server.modelRequests[requestsBefore];
    expect(instructionsOf(resumed)).toEqual(['Build the Fibonacci CLI', 'Add a comment to app.py']);
    const calls = resumed.input.filter((i: any) => i.type === 'function_call' || i.type === 'custom_tool_call');
    expect(calls.map((c: any) => c.name)).toEqual(['exec_command', 'apply_patch', 'exec_command']);
    // Codex counts tokens from the thread's start; the job reports its own two requests.
    expect(edit.usage).toEqual({ input_tokens: 2000, cached_input_tokens: 400, output_tokens: 100 });
  });

  test('an edit whose thread is gone starts a new thread and says so', async () => {
    server = await startModelServer({ behaviour: { kind: 'script', turns: [projectScript()[1]!] } });
    const history = [
      {
        job_id: randomUUID(),
        job_type: 'initial_project' as const,
        instruction: 'Build the Fibonacci CLI',
        status: 'completed' as const,
        summary: 'Built it.',
      },
    ];
    await fs.writeFile(path.join(workspace, 'app.py'), APP_PY);
    const goneThread = '01a21378-0000-7000-8000-000000000000';

    const result = await runCodexAgent(
      workspace,
      request('edit', 'Add a comment to app.py', { thread_id: goneThread, history }),
      log,
      options(),
    );

    expect(result.errors).toEqual([]);
    expect(result.status).toBe('success');
    expect(result.thread_id).not.toBe(goneThread);
    expect(lines).toContain(`codex: thread ${goneThread} is gone; starting a new thread`);
    // The new thread is told what the earlier jobs did.
    const [instruction] = instructionsOf(server.modelRequests[0]);
    expect(instruction).toContain('Build the Fibonacci CLI');
    expect(instruction).toContain('Add a comment to app.py');
  });

  test('an API error fails the job with the server message', async () => {
    server = await startModelServer({
      behaviour: {
        kind: 'fail',
        status: 400,
        message: 'The model `gpt-5.5` does not exist or you do not have access to it.',
      },
    });

    const result = await runCodexAgent(workspace, request('initial_project', 'Build something'), log, options());

    expect(result.status).toBe('error');
    expect(result.errors).toEqual(['The model `gpt-5.5` does not exist or you do not have access to it.']);
    expect(result.summary).toBe('Codex failed: The model `gpt-5.5` does not exist or you do not have access to it.');
    expect(lines).toContain('error: The model `gpt-5.5` does not exist or you do not have access to it.');
    expect(WorkerResult.parse(result)).toEqual(result);
  });

  test('a model that never answers times out, and no codex process is left', async () => {
    server = await startModelServer({ behaviour: { kind: 'hang' } });
    const pids: number[] = [];

    const result = await runCodexAgent(
      workspace,
      request('initial_project', 'Build something'),
      log,
      options({ CODEX_TIMEOUT_SECONDS: '2' }, { onSpawn: (pid) => pids.push(pid) }),
    );

    expect(result.status).toBe('error');
    expect(result.errors).toEqual(['codex timed out after 2 s (CODEX_TIMEOUT_SECONDS)']);
    expect(result.error_code).toBe('timeout');
    expect(lines).toContain('error: codex timed out after 2 s (CODEX_TIMEOUT_SECONDS)');
    expect(server.modelRequests).toHaveLength(1); // it did reach the model
    expect(pids).toHaveLength(1);
    expect(() => process.kill(pids[0]!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(processesMatching(workspace)).toEqual([]);
  });

  test('a model endpoint nothing listens on is model_unreachable, not a timeout', async () => {
    // A port just freed: connections to it are refused, as to a model server that is down.
    server = await startModelServer({ behaviour: { kind: 'script', turns: projectScript() } });
    const unreachable = options({ CODEX_TIMEOUT_SECONDS: '3' });
    const host = new URL(server.url).host;
    await server.stop();

    const result = await runCodexAgent(workspace, request('initial_project', 'Build something'), log, unreachable);

    expect(result.status).toBe('error');
    expect(result.error_code).toBe('model_unreachable');
    expect(result.errors).toEqual([
      `could not reach the model at ${host} (Connection failed: error sending request); gave up after 3 s (CODEX_TIMEOUT_SECONDS)`,
    ]);
    expect(lines).toContain('codex: Reconnecting... waiting for network (Connection failed: error sending request)');
    expect(WorkerResult.parse(result)).toEqual(result);
  });

  test('an endpoint nothing listens on ends the job after CODEX_CONNECT_TIMEOUT_SECONDS, saying so', async () => {
    server = await startModelServer({ behaviour: { kind: 'hang' } });
    const closed = await closedPortUrl();
    const pids: number[] = [];
    const started = Date.now();

    const result = await runCodexAgent(
      workspace,
      request('initial_project', 'Build something'),
      log,
      // Codex's own limit is far away: the connect limit must end it, not the time limit.
      options(
        { CODEX_BASE_URL: closed, CODEX_CONNECT_TIMEOUT_SECONDS: '2', CODEX_TIMEOUT_SECONDS: '600' },
        { onSpawn: (pid) => pids.push(pid) },
      ),
    );

    const cause = `model endpoint unreachable at ${closed} (Connection failed: error sending request; none within 2 s, CODEX_CONNECT_TIMEOUT_SECONDS)`;
    expect(result).toMatchObject({ status: 'error', error_code: 'model_unreachable', errors: [cause] });
    expect(result.summary).toBe(`Codex failed: ${cause}`);
    expect(lines).toContain(`error: ${cause}`);
    expect(lines.some((l) => l.startsWith('codex: Reconnecting... waiting for network'))).toBe(true);
    expect(WorkerResult.parse(result)).toEqual(result);
    // Stopped at the connect limit (Codex alone would retry for minutes), and nothing left running.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(pids).toHaveLength(1);
    expect(processesMatching(workspace)).toEqual([]);
  });

  test('a model that accepts the connection but is slow is not "unreachable": its time limit ends it', async () => {
    server = await startModelServer({ behaviour: { kind: 'hang' } });

    const result = await runCodexAgent(
      workspace,
      request('initial_project', 'Build something'),
      log,
      options({ CODEX_CONNECT_TIMEOUT_SECONDS: '1', CODEX_TIMEOUT_SECONDS: '4' }),
    );

    expect(result).toMatchObject({
      status: 'error',
      error_code: 'timeout',
      errors: ['codex timed out after 4 s (CODEX_TIMEOUT_SECONDS)'],
    });
  });

  test('a cancel stops codex and the command it is running', async () => {
    const marker = `sleep 31${Math.floor(Math.random() * 1e6)}`;
    // Two commands, so the shell forks: codex kills the shell, and the sleep below it must go too.
    const command = `${marker}; echo finished`;
    server = await startModelServer({
      behaviour: { kind: 'script', turns: [[execCommand(command), assistantMessage('done')]] },
    });
    const controller = new AbortController();
    // Cancel as soon as the command shows up in the log.
    const watch = (line: string) => {
      log(line);
      if (line === `$ ${command}`) setTimeout(() => controller.abort(), 300);
    };

    const result = await runCodexAgent(
      workspace,
      request('initial_project', 'Build something'),
      watch,
      // The container's mode: commands run straight under codex, each in a session of its own.
      options({ CODEX_SANDBOX: 'danger-full-access' }, { signal: controller.signal }),
    );

    expect(controller.signal.aborted).toBe(true);
    expect(result.status).toBe('error');
    expect(result.errors).toEqual(['codex was cancelled']);
    expect(processesMatching(marker)).toEqual([]);
    expect(processesMatching(workspace)).toEqual([]);
  });

  test('without an API key the job fails before codex starts', async () => {
    server = await startModelServer({ behaviour: { kind: 'script', turns: projectScript() } });
    const env = options().env!;
    delete env.OPENAI_API_KEY;

    const result = await runCodexAgent(workspace, request('initial_project', 'Build something'), log, { env });

    expect(result.status).toBe('error');
    expect(result.errors).toEqual(['OPENAI_API_KEY is not set: the codex agent needs an API key']);
    expect(result.error_code).toBe('configuration');
    expect(server.requests).toHaveLength(0);
  });

  test('a bad setting fails the job naming the variable', async () => {
    server = await startModelServer({ behaviour: { kind: 'script', turns: projectScript() } });

    const result = await runCodexAgent(
      workspace,
      request('initial_project', 'Build something'),
      log,
      options({ CODEX_SANDBOX: 'none' }),
    );

    expect(result.status).toBe('error');
    expect(result.errors[0]).toMatch(/^invalid codex settings: CODEX_SANDBOX/);
  });
});
