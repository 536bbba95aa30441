import fs from 'node:fs';
import path from 'node:path';
import { WorkerResult } from '@cwo/contracts';
import { projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import { createHostExecutor, DEFAULT_WORKER_ENTRY } from './executors/host';
import type { Executor } from './executors/types';
import { createProject, readJobLog, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// The worker protocol's presence lines (docs/worker-protocol.md), as a client reads them: in the
// job log and first in the job's result.json `logs`, whichever executor ran the job. The docker
// executor's and the codex agent's are checked in apps/runner/test (docker-executor, codex-suite).

const SECRET = 'sk-test-presence-0123456789-never-logged';
const PRESENCE = ['OPENAI_API_KEY=present', 'OPENAI_ORG_ID=present', 'OPENAI_PROJECT=absent'];

describe('presence lines of the OPENAI_* variables', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  const env = { ...process.env, OPENAI_API_KEY: SECRET, OPENAI_ORG_ID: 'org-presence', OPENAI_PROJECT: '' };

  async function runJob(
    overrides: Record<string, string>,
    makeExecutor: (c: ReturnType<typeof testConfig>) => Executor,
  ) {
    const config = testConfig(overrides);
    const queue = harness.queue(config);
    await harness.startRunner(config, makeExecutor(config));
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, 30_000);
    expect(job.status).toBe('completed');
    const workspace = projectWorkspace(config.workspaceRoot, projectId);
    const result = WorkerResult.parse(JSON.parse(fs.readFileSync(path.join(workspace, job.resultPath!), 'utf8')));
    return { log: await readJobLog(config, projectId, jobId), result };
  }

  function expectPresence({ log, result }: { log: string; result: WorkerResult }) {
    expect(result.logs.slice(0, PRESENCE.length)).toEqual(PRESENCE);
    expect(result.logs).toContain('wrote app.py'); // the agent's own lines follow
    for (const line of PRESENCE) expect(log).toMatch(new RegExp(`\\[agent\\] ${line}$`, 'm'));
    expect(log).not.toContain(SECRET);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(JSON.stringify(result)).not.toContain('org-presence');
  }

  it('the dummy executor (in-process) writes them', async () => {
    expectPresence(await runJob({}, () => createDummyExecutor({ env })));
  });

  it('the host executor (the worker entrypoint) writes them', async () => {
    if (!fs.existsSync(DEFAULT_WORKER_ENTRY)) {
      throw new Error(`The host executor runs ${DEFAULT_WORKER_ENTRY}: build it first (\`pnpm build\`).`);
    }
    expectPresence(
      await runJob({ USE_DUMMY_WORKER: 'false', WORKER_EXECUTOR: 'host' }, (config) =>
        createHostExecutor({ config, env }),
      ),
    );
  });
});
