import type { CheckRound, CheckSpec, TokenUsage, WorkerRequest, WorkerResult } from '@cwo/contracts';
import { fixInstruction } from './fix-instruction';
import { runCheck, type CheckContext } from './run-check';

export interface ChecksRun extends CheckContext {
  /** Runs the agent on a request (the job's, then one per fix attempt) and returns its result. */
  runAgent: (request: WorkerRequest) => Promise<WorkerResult>;
}

/** Every check of a round, in order; all run, so that the agent sees every failure at once. */
export async function runCheckRound(checks: CheckSpec[], round: number, ctx: CheckContext): Promise<CheckRound> {
  const results = [];
  for (const check of checks) {
    if (ctx.signal?.aborted) break;
    await ctx.settle?.();
    ctx.log(`checks: round ${round}: running "${check.name}": ${check.run}`);
    const result = await runCheck(check, ctx);
    const how = result.timed_out
      ? `stopped at its time limit (${check.timeout_seconds ?? 'default'} s)`
      : result.exit_code === null
        ? 'stopped'
        : `exit code ${result.exit_code}`;
    ctx.log(
      `checks: round ${round}: "${check.name}" ${result.passed ? 'passed' : 'FAILED'} (${how}, ${(result.duration_ms / 1000).toFixed(1)} s${result.output_truncated ? ', output cut to its end' : ''})`,
    );
    results.push(result);
  }
  const passed = results.length === checks.length && results.every((r) => r.passed);
  return { round, passed, results };
}

const sumUsage = (a?: TokenUsage, b?: TokenUsage): TokenUsage | undefined =>
  a && b
    ? {
        input_tokens: a.input_tokens + b.input_tokens,
        cached_input_tokens: a.cached_input_tokens + b.cached_input_tokens,
        output_tokens: a.output_tokens + b.output_tokens,
      }
    : (a ?? b);

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];

/** The job's result so far and a fix round's: the later one decides, the lists and usage add up. */
function combine(before: WorkerResult, fix: WorkerResult): WorkerResult {
  const usage = sumUsage(before.usage, fix.usage);
  const threadId = fix.thread_id ?? before.thread_id;
  return {
    ...fix,
    summary: fix.summary || before.summary,
    created_files: union(before.created_files, fix.created_files),
    modified_files: union(before.modified_files, fix.modified_files),
    deleted_files: union(before.deleted_files, fix.deleted_files),
    logs: [...before.logs, ...fix.logs].slice(-10_000),
    ...(usage ? { usage } : {}),
    ...(threadId ? { thread_id: threadId } : {}),
  };
}

/**
 * The agent, then the request's checks; while they fail and fix attempts are left, the agent is
 * given the failures as its next instruction (in its conversation: the thread it just used) and
 * the checks run again. Returns the combined result with every round of checks. The verdict is
 * the runner's (a failed last round makes the job `checks_failed`); an agent that fails ends the
 * loop with its own error.
 */
export async function runAgentWithChecks(request: WorkerRequest, ctx: ChecksRun): Promise<WorkerResult> {
  let result = await ctx.runAgent(request);
  if (request.checks.length === 0) return result;
  const rounds: CheckRound[] = [];
  for (let round = 1; ; round++) {
    if (result.status !== 'success' || ctx.signal?.aborted) break;
    const checked = await runCheckRound(request.checks, round, ctx);
    rounds.push(checked);
    if (checked.passed || round > request.fix_attempts || ctx.signal?.aborted) break;
    ctx.log(`checks: fix attempt ${round} of ${request.fix_attempts}: the agent is given the failing checks`);
    const fix = await ctx.runAgent({
      ...request,
      job_type: 'edit',
      instruction: fixInstruction(
        checked.results.filter((r) => !r.passed),
        round,
        request.fix_attempts,
      ),
      ...(result.thread_id ? { thread_id: result.thread_id } : {}),
    });
    result = combine(result, fix);
  }
  const last = rounds.at(-1);
  return rounds.length ? { ...result, checks: { passed: last!.passed, rounds } } : result;
}
