// Checks with the real Codex agent through the whole runner, driven by the scripted model server:
// the first turn leaves a failing test, the checks fail, the agent is given the failure as its next
// instruction in the same thread, fixes it, and the checks pass. Run with the `host` executor and
// with the `docker` executor (the worker image in a container).
import fs from 'node:fs';
import { toJobDetail } from '@cwo/jobs';
import type { Db } from '@cwo/db';
import { projectWorkspace } from '@cwo/workspace';
import { APP_PY, BUILD, FAKE_KEY, TEST_APP_PY } from '../../../e2e/helpers/codex-project';
import {
  addFilePatch,
  assistantMessage,
  execCommand,
  instructionsOf,
  startModelServer,
  type ModelServer,
  type ScriptTurn,
} from '../../../e2e/helpers/model-server';
import { createDockerExecutor } from '../src/executors/docker';
import { createHostExecutor } from '../src/executors/host';
import {
  createProject,
  quietLogger,
  readJobLog,
  testConfig,
  useRunnerHarness,
  waitForJob,
} from '../src/__tests__/helpers';
import { ENGINE, requireDockerApi } from './docker-helpers';
import { usageOf } from './codex-suite';

/** app.py with a bug the test finds: the sequence starts at 1. */
const BUGGY_APP_PY = APP_PY.replace('a, b = 0, 1', 'a, b = 1, 1');

/** Turn one builds the project with the bug (3 model requests); turn two, the fix attempt, fixes it (2). */
function buggyThenFixed(): ScriptTurn[] {
  return [
    [
      execCommand(`cat > app.py <<'EOF'\n${BUGGY_APP_PY}EOF`),
      addFilePatch('tests/test_app.py', TEST_APP_PY),
      assistantMessage('Created app.py, a Fibonacci CLI, with a test in tests/test_app.py.'),
    ],
    [execCommand(`cat > app.py <<'EOF'\n${APP_PY}EOF`), assistantMessage('Fixed fibonacci: the sequence starts at 0.')],
  ];
}

export function codexChecksSuite(kind: 'host' | 'docker'): void {
  const where = kind === 'docker' ? `docker executor on ${ENGINE}` : 'host executor';

  describe(`checks with the codex agent and a fix attempt (${where})`, () => {
    const harness = useRunnerHarness();
    const db: Db = harness.db;
    let server: ModelServer;
    const config = testConfig({
      USE_DUMMY_WORKER: 'false',
      WORKER_EXECUTOR: kind,
      WORKER_AGENT: 'codex',
      // The container reaches the model server on the host's loopback.
      WORKER_NETWORK: 'host',
      WORKER_ENV_PASSTHROUGH: 'CODEX_BASE_URL,CODEX_MODEL,CODEX_SANDBOX,CODEX_TIMEOUT_SECONDS',
      JOB_TIMEOUT_SECONDS: '180',
    });
    const queue = harness.queue(config);

    beforeAll(async () => {
      server = await startModelServer({ behaviour: { kind: 'script', turns: buggyThenFixed() } });
      harness.onCleanup(() => server.stop());
      if (kind === 'docker') await requireDockerApi(config.CODEX_WORKER_IMAGE);
      const env = {
        ...process.env,
        OPENAI_API_KEY: FAKE_KEY,
        CODEX_BASE_URL: server.url,
        CODEX_MODEL: 'gpt-5.5',
        CODEX_SANDBOX: kind === 'docker' ? 'danger-full-access' : 'workspace-write',
        CODEX_TIMEOUT_SECONDS: '100',
      };
      const logger = quietLogger();
      const executor =
        kind === 'host' ? createHostExecutor({ config, env }) : createDockerExecutor({ config, logger, env });
      await harness.startRunner(config, executor, { logger });
    });

    it('a first round leaves a failing test, the fix attempt fixes it: completed, both rounds in the log, usage summed', async () => {
      const { projectId, jobId } = await createProject(db, config, BUILD);
      await db.job.update({
        where: { id: jobId },
        data: { checks: [{ name: 'tests', run: 'python3 -m pytest -q' }], fixAttempts: 1 },
      });
      await queue.enqueue(jobId);
      const job = await waitForJob(db, jobId, 150_000);
      const log = await readJobLog(config, projectId, jobId);
      const detail = toJobDetail(job);

      expect({ status: job.status, errors: job.errors, code: job.errorCode }).toEqual({
        status: 'completed',
        errors: [],
        code: null,
      });
      expect(job.summary).toBe('Fixed fibonacci: the sequence starts at 0.');
      expect(fs.readFileSync(`${projectWorkspace(config.workspaceRoot, projectId)}/app.py`, 'utf8')).toBe(APP_PY);
      expect(job.createdFiles).toEqual(['app.py', 'tests/test_app.py']);

      const rounds = detail.check_results!.rounds;
      expect(rounds.map((r) => [r.round, r.passed])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(rounds[0]!.results[0]).toMatchObject({ name: 'tests', exit_code: 1, timed_out: false });
      expect(rounds[0]!.results[0]!.output).toMatch(/1 failed/);
      expect(rounds[1]!.results[0]!.output).toMatch(/1 passed/);

      // The fix attempt was the next instruction of the same conversation, with the check's command and output.
      const last = server.modelRequests.at(-1);
      const instructions = instructionsOf(last);
      expect(instructions).toHaveLength(2);
      expect(instructions[0]).toBe(BUILD);
      expect(instructions[1]).toContain('fix attempt 1 of 1');
      expect(instructions[1]).toContain('Check "tests" exited with code 1:\n$ python3 -m pytest -q');
      expect(instructions[1]).toMatch(/assert \[1, 1, 2, 3, 5\] == \[0, 1, 1, 2, 3\]/);
      expect(job.threadId).toMatch(/^[0-9a-f-]{36}$/);

      // Both turns' tokens: 3 model requests, then 2.
      expect(job).toMatchObject(usageOf(5));
      expect(detail.usage).toEqual({ input_tokens: 5000, cached_input_tokens: 1000, output_tokens: 250 });

      // Every round in the log, the agent's second turn between them.
      const order = [
        'checks: round 1: running "tests"',
        'checks: round 1: "tests" FAILED (exit code 1',
        'checks: fix attempt 1 of 1',
        `codex: resuming thread ${job.threadId}`,
        'checks: round 2: "tests" passed',
        '[runner] checks passed (2 round(s))',
      ].map((line) => log.indexOf(line));
      expect(order.every((at) => at >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(log).toMatch(/\[agent\] usage: 3000 input tokens/);
      expect(log).toMatch(/\[agent\] usage: 2000 input tokens/);
      expect(log).not.toContain(FAKE_KEY);
    });
  });
}
