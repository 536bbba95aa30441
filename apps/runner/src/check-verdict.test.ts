import type { CheckResult, CheckSpec, WorkerResult } from '@cwo/contracts';
import { judgeChecks } from './check-verdict';

// result.json is untrusted: the verdict comes from the exit codes and time limits of exactly the
// job's checks, never from what the worker (or an agent that wrote over its file) says passed.

const tests: CheckSpec = { name: 'tests', run: 'python3 -m pytest -q' };
const lint: CheckSpec = { name: 'lint', run: 'ruff check .' };

const ran = (check: CheckSpec, exit: number | null, extra: Partial<CheckResult> = {}): CheckResult => ({
  name: check.name,
  run: check.run,
  passed: exit === 0,
  exit_code: exit,
  timed_out: false,
  duration_ms: 10,
  output: '',
  output_truncated: false,
  ...extra,
});

const result = (checks?: WorkerResult['checks']): WorkerResult => ({
  status: 'success',
  summary: '',
  created_files: [],
  modified_files: [],
  deleted_files: [],
  errors: [],
  logs: [],
  ...(checks ? { checks } : {}),
});

describe('judgeChecks', () => {
  it('no checks: no verdict', () => {
    expect(judgeChecks([], result())).toEqual({ kind: 'none' });
  });

  it('passes when every check of the last round exited 0 in time', () => {
    const verdict = judgeChecks(
      [tests, lint],
      result({
        passed: true,
        rounds: [
          { round: 1, passed: false, results: [ran(tests, 1), ran(lint, 0)] },
          { round: 2, passed: true, results: [ran(tests, 0), ran(lint, 0)] },
        ],
      }),
    );
    expect(verdict.kind).toBe('passed');
  });

  it('fails a check that says it passed with a non-zero exit, or one stopped at its time limit', () => {
    const verdict = judgeChecks(
      [tests, lint],
      result({
        passed: true,
        rounds: [
          {
            round: 1,
            passed: true,
            results: [ran(tests, 3, { passed: true }), ran(lint, 0, { passed: true, timed_out: true })],
          },
        ],
      }),
    );
    expect(verdict).toMatchObject({
      kind: 'failed',
      errors: [
        'check "tests" failed with exit code 3 (python3 -m pytest -q)',
        'check "lint" ran past its time limit and was stopped (ruff check .)',
      ],
    });
    if (verdict.kind === 'failed') {
      expect(verdict.checks!.passed).toBe(false);
      expect(verdict.checks!.rounds[0]!.results.map((r) => r.passed)).toEqual([false, false]);
    }
  });

  it('fails when the worker reported no results, or results of other checks than the job’s', () => {
    for (const reported of [
      undefined,
      { passed: true, rounds: [] },
      { passed: true, rounds: [{ round: 1, passed: true, results: [ran({ name: 'tests', run: 'true' }, 0)] }] },
      { passed: true, rounds: [{ round: 1, passed: true, results: [ran(lint, 0), ran(tests, 0)] }] },
    ]) {
      const verdict = judgeChecks([tests, lint], result(reported));
      expect(verdict).toMatchObject({ kind: 'failed', checks: null });
      if (verdict.kind === 'failed') expect(verdict.errors[0]).toMatch(/^the checks did not run/);
    }
  });

  it('names a check the last round did not reach (the job was stopped between checks)', () => {
    const verdict = judgeChecks(
      [tests, lint],
      result({ passed: true, rounds: [{ round: 1, passed: true, results: [ran(tests, 0)] }] }),
    );
    expect(verdict).toMatchObject({ kind: 'failed', errors: ['check "lint" did not run (ruff check .)'] });
  });
});
