import type { CheckResult } from '@cwo/contracts';

/** How much of each failing check's output the agent is shown (its end, where failures are told). */
const OUTPUT_SHOWN_CHARS = 12_000;

function describe(result: CheckResult): string {
  if (result.timed_out) return `was stopped at its time limit after ${(result.duration_ms / 1000).toFixed(1)} s`;
  if (result.exit_code === null) return 'was stopped before it finished';
  return `exited with code ${result.exit_code}`;
}

/**
 * The agent's next instruction after a round of checks failed: each failing check's command and
 * the end of its output. The agent is asked to fix the project, not the checks.
 */
export function fixInstruction(failed: CheckResult[], attempt: number, attempts: number): string {
  const parts = [
    `The project's checks failed after your changes (fix attempt ${attempt} of ${attempts}).`,
    'Change the project so that every check passes. Do not change or remove the checks themselves, and do not skip or delete tests to make them pass.',
    'The checks run again, the same way, when you finish.',
  ];
  for (const result of failed) {
    const output = result.output.length > OUTPUT_SHOWN_CHARS ? result.output.slice(-OUTPUT_SHOWN_CHARS) : result.output;
    const cut = result.output_truncated || output.length < result.output.length ? ' (its end)' : '';
    parts.push(
      '',
      `Check "${result.name}" ${describe(result)}:`,
      `$ ${result.run}`,
      `Output${cut}:`,
      '```',
      output.trimEnd() || '(no output)',
      '```',
    );
  }
  return parts.join('\n');
}
