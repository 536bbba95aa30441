import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkEnvironment, runAgentWithChecks } from '@cwo/checks';
import { WorkerRequest, openAiPresenceLines, withPresenceLines } from '@cwo/contracts';
import { runDummyAgent } from '@cwo/dummy-agent';
import { relativeResultPath, requestFile } from '@cwo/workspace';
import { writeFileDirect } from '../safe-fs';
import type { Executor, ExecutorRun } from './types';

/** What a check on this host gets of the runner's environment: never its secrets (DATABASE_URL…). */
const HOST_VARIABLES = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'] as const;

function hostEnvironment(from: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of HOST_VARIABLES) if (from[name] !== undefined) env[name] = from[name];
  return env;
}

export interface DummyExecutorOptions {
  /**
   * Tests and demos only (DUMMY_WORKER_DELAY_MS): wait this long before the agent runs, so that a
   * job is observably running (to cancel it, time it out or kill its runner).
   */
  delayMs?: number;
  /** The environment the agent runs with (the runner's own: it runs in-process); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The dummy mode (docs/worker-protocol.md), in-process, through the same protocol as the container: it reads
 * .codex/request.json, runs the deterministic dummy agent on the workspace and writes
 * .codex/result.json. An aborted run stops before the agent (or before its result) and writes
 * no result: a stopped agent has none.
 */
export function createDummyExecutor(opts: DummyExecutorOptions = {}): Executor {
  const delayMs = opts.delayMs ?? 0;
  const env = opts.env ?? process.env;
  return {
    name: 'dummy',
    async run({ workspace, log, signal, mayChangeWorkspace, recordChecks }: ExecutorRun): Promise<void> {
      const request = WorkerRequest.parse(JSON.parse(fs.readFileSync(requestFile(workspace), 'utf8')));
      // The worker protocol's presence lines, as the container's worker writes them.
      const presence = openAiPresenceLines(env);
      for (const line of presence) log(line);
      if (delayMs > 0) {
        log(`dummy executor: waiting ${delayMs} ms first (DUMMY_WORKER_DELAY_MS)`);
        try {
          await sleep(delayMs, undefined, { signal });
        } catch {
          return; // aborted while waiting
        }
      }
      if (signal.aborted || mayChangeWorkspace?.() === false) return;
      // The job's checks run here too, as the runner's user on this host: the dummy agent's sandbox.
      const agentResult = await runAgentWithChecks(request, {
        runAgent: (r) => runDummyAgent(workspace, r, log),
        cwd: workspace,
        env: checkEnvironment(hostEnvironment(env)),
        log,
        signal,
      });
      if (signal.aborted) return;
      // What this process saw the checks do is the verdict's; result.json is only the agent's word.
      recordChecks?.(agentResult.checks ?? null);
      const result = { ...agentResult, logs: withPresenceLines(presence, agentResult.logs) };
      // Never through a FIFO or a link a check left at its place (it would hold or misdirect the write).
      writeFileDirect(workspace, relativeResultPath(), `${JSON.stringify(result, null, 2)}\n`);
      log(`dummy executor: wrote .codex/result.json (${result.status})`);
    },
  };
}
