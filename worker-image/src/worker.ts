import { checkEnvironment, runAgentWithChecks } from '@cwo/checks';
import {
  WorkerResult,
  openAiPresenceLines,
  withPresenceLines,
  type ErrorCode,
  type WorkerRequest,
} from '@cwo/contracts';
import { agentNames, findAgent, type Agent } from './agents';
import { stopLeftovers } from './leftovers';
import { readRequest, writeResultAtomically } from './result-file';

export interface WorkerOptions {
  /** The project's workspace: /workspace in the container. */
  workspace: string;
  env: NodeJS.ProcessEnv;
  /** Progress lines (stdout in the container, so they stream into the job log). */
  log: (line: string) => void;
  /** Problems that keep the worker from writing a result (stderr in the container). */
  fail: (line: string) => void;
  /** Aborted when the container is asked to stop. */
  signal: AbortSignal;
}

export const DEFAULT_AGENT = 'dummy';

function errorResult(summary: string, errors: string[], errorCode: ErrorCode): WorkerResult {
  return {
    status: 'error',
    summary,
    created_files: [],
    modified_files: [],
    deleted_files: [],
    errors,
    logs: [],
    error_code: errorCode,
  };
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Runs the agent and decides what result.json says; an agent's failure becomes an error result. */
async function produceResult({ workspace, env, log, signal }: WorkerOptions): Promise<WorkerResult> {
  const name = env.WORKER_AGENT?.trim() || DEFAULT_AGENT;
  let request;
  try {
    request = await readRequest(workspace);
  } catch (err) {
    return errorResult('The worker could not read its request.', [messageOf(err)], 'agent_error');
  }
  log(`worker: job ${request.job_id} (${request.job_type}) of project ${request.project_id}`);

  const agent = findAgent(name, env);
  if (!agent) {
    return errorResult(
      `Unknown agent "${name}".`,
      [`WORKER_AGENT names no agent of this worker image: "${name}" (known: ${agentNames(env).join(', ')})`],
      'configuration',
    );
  }
  log(`worker: running the ${name} agent${request.checks.length ? `, then ${request.checks.length} check(s)` : ''}`);
  // The checks run here, in the agent's own sandbox (this container, or this process), after it.
  return runAgentWithChecks(request, {
    runAgent: (r) => runAgentOnce(agent, name, { workspace, env, log, signal }, r),
    cwd: workspace,
    env: checkEnvironment(env),
    log,
    signal,
    // Each check with nothing of the agent's, or of an earlier check's, still running.
    settle: () => stopLeftovers(log),
  });
}

/** One run of the agent (the job's, or a fix attempt); a throw or an invalid result becomes an error result. */
async function runAgentOnce(
  agent: Agent,
  name: string,
  { workspace, env, log, signal }: Pick<WorkerOptions, 'workspace' | 'env' | 'log' | 'signal'>,
  request: WorkerRequest,
): Promise<WorkerResult> {
  let output: unknown;
  try {
    output = await agent({ workspace, request, log, env, signal });
  } catch (err) {
    return errorResult(`The ${name} agent failed.`, [`agent_error: ${messageOf(err)}`], 'agent_error');
  }
  const checked = WorkerResult.safeParse(output);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return errorResult(
      `The ${name} agent returned an invalid result.`,
      [`invalid_result: ${problems.join('; ')}`],
      'invalid_result',
    );
  }
  return checked.data;
}

/**
 * The worker: reads .codex/request.json, runs the agent named by WORKER_AGENT and writes
 * .codex/result.json. Returns the exit code: 0 whenever a result was written (an error result
 * too), 1 only when none could be written, which the runner reports as the job's error.
 */
export async function runWorker(options: WorkerOptions): Promise<number> {
  const { workspace, env, log, fail } = options;
  log(`worker: starting (node ${process.version}, uid ${process.getuid?.() ?? '?'})`);
  // The presence lines, as the worker protocol states them: first in the job log and in result.json.
  const presence = openAiPresenceLines(env);
  for (const line of presence) log(line);

  const produced = await produceResult(options);
  const result = { ...produced, logs: withPresenceLines(presence, produced.logs) };
  try {
    // Nothing else runs once the result is written: no one can replace it before the runner reads it.
    await stopLeftovers(log);
    const file = await writeResultAtomically(workspace, result);
    log(
      `worker: wrote ${file} (status ${result.status}${result.errors.length ? `, errors: ${result.errors.join('; ')}` : ''})`,
    );
    return 0;
  } catch (err) {
    fail(`worker: cannot write the result in ${workspace}: ${messageOf(err)}`);
    return 1;
  }
}
