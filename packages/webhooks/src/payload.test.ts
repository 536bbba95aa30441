import { randomUUID } from 'node:crypto';
import { WebhookPayload } from '@cwo/contracts';
import { buildPayload, WEBHOOK_CHECK_OUTPUT_CHARS } from './payload';

// A job's webhook carries its checks and their results, each output cut to its end so that a
// body stays small (the job detail has all of it).

describe('webhook payloads of a job with checks', () => {
  const row = (checkResults: unknown) => ({
    id: randomUUID(),
    project_id: randomUUID(),
    seq: 1,
    job_type: 'initial_project',
    instruction: 'build it',
    status: 'error',
    summary: null,
    created_files: [],
    modified_files: [],
    deleted_files: [],
    errors: ['check "tests" failed with exit code 1 (python3 -m pytest -q)'],
    result_path: null,
    logs_path: null,
    attempts: 1,
    cancel_requested_at: null,
    started_at: '2026-12-01T12:00:00.000Z',
    finished_at: '2026-12-01T12:00:05.000Z',
    created_at: '2026-12-01T12:00:00.000Z',
    updated_at: '2026-12-01T12:00:05.000Z',
    input_tokens: null,
    cached_input_tokens: null,
    output_tokens: null,
    thread_id: null,
    commit_sha: null,
    egress: null,
    error_code: 'checks_failed',
    checks: [{ name: 'tests', run: 'python3 -m pytest -q' }],
    fix_attempts: 0,
    check_results: checkResults,
  });

  it('carries check_results with each output cut to its last 4 KB, and the checks', async () => {
    const output = `${'x'.repeat(10_000)}\nFAILED tests/test_app.py::test_first_five\n`;
    const results = {
      passed: false,
      rounds: [
        {
          round: 1,
          passed: false,
          results: [
            {
              name: 'tests',
              run: 'python3 -m pytest -q',
              passed: false,
              exit_code: 1,
              timed_out: false,
              duration_ms: 900,
              output,
              output_truncated: false,
            },
          ],
        },
      ],
    };
    const payload = await buildPayload(
      { eventType: 'job.failed', eventAt: new Date(), data: row(results) },
      '/nonexistent',
    );
    const parsed = WebhookPayload.parse(payload);
    if (parsed.type === 'project.deleted') throw new Error('a job event was expected');
    expect(parsed.data).toMatchObject({ error_code: 'checks_failed', checks: [{ name: 'tests' }], fix_attempts: 0 });
    const sent = parsed.data.check_results!.rounds[0]!.results[0]!;
    expect(sent.output).toHaveLength(WEBHOOK_CHECK_OUTPUT_CHARS);
    expect(sent.output.endsWith('FAILED tests/test_app.py::test_first_five\n')).toBe(true);
    expect(sent).toMatchObject({ output_truncated: true, exit_code: 1, duration_ms: 900 });
  });

  it('a job without checks carries check_results null', async () => {
    const payload = await buildPayload({ eventType: 'job.failed', eventAt: new Date(), data: row(null) }, '/x');
    expect((payload.data as { check_results: unknown }).check_results).toBeNull();
  });
});
