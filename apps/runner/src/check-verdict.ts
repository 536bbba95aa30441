import type { CheckResults, CheckSpec, WorkerResult } from '@cwo/contracts';

// Whether a job that its agent finished counts as completed: every check of its request must have
// passed in the last round the worker ran (docs/checks.md). result.json is untrusted, so the
// rounds it reports must be of exactly the checks the request named, in order.

export type CheckVerdict =
  | { kind: 'none' }
  | { kind: 'passed'; checks: CheckResults }
  | { kind: 'failed'; checks: CheckResults | null; errors: string[] };

function describeFailure(result: CheckResults['rounds'][number]['results'][number]): string {
  if (result.timed_out) return `check "${result.name}" ran past its time limit and was stopped (${result.run})`;
  if (result.exit_code === null) return `check "${result.name}" was stopped before it finished (${result.run})`;
  return `check "${result.name}" failed with exit code ${result.exit_code} (${result.run})`;
}

export function judgeChecks(requested: CheckSpec[], result: WorkerResult): CheckVerdict {
  if (requested.length === 0) return { kind: 'none' };
  const reported = result.checks ?? null;
  const last = reported?.rounds.at(-1);
  const sameChecks =
    last !== undefined &&
    reported!.rounds.every(
      (round) =>
        round.results.length <= requested.length &&
        round.results.every((r, i) => r.name === requested[i]!.name && r.run === requested[i]!.run),
    );
  if (!reported || !last || !sameChecks) {
    return {
      kind: 'failed',
      checks: sameChecks ? reported : null,
      errors: [
        'the checks did not run: the worker reported no results for the job’s checks (a worker image older than checks? rebuild it with `pnpm worker:build`)',
      ],
    };
  }
  // The verdict is the runner's own, from exit codes and time limits, whatever `passed` says.
  const rounds = reported.rounds.map((round) => {
    const results = round.results.map((r) => ({ ...r, passed: r.exit_code === 0 && !r.timed_out }));
    return { ...round, results, passed: results.length === requested.length && results.every((r) => r.passed) };
  });
  const final = rounds.at(-1)!;
  const missing = requested.slice(final.results.length).map((c) => `check "${c.name}" did not run (${c.run})`);
  const failed = final.results.filter((r) => !r.passed).map(describeFailure);
  const passed = missing.length === 0 && failed.length === 0;
  const checks: CheckResults = { passed, rounds };
  return passed ? { kind: 'passed', checks } : { kind: 'failed', checks, errors: [...failed, ...missing] };
}
