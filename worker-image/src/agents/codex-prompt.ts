import type { WorkerRequest } from '@cwo/contracts';

const MAX_HISTORY = 20;
const MAX_SUMMARY_CHARS = 1000;

/**
 * What Codex is asked. A resumed thread already holds the earlier turns, so it gets the
 * instruction alone; a new thread on an existing project (an edit whose session is gone) is told
 * what earlier jobs did, so it does not start from nothing.
 */
export function buildPrompt(request: WorkerRequest, resuming: boolean): string {
  if (resuming || request.job_type === 'initial_project' || request.history.length === 0) return request.instruction;
  const earlier = request.history.slice(-MAX_HISTORY).map((job) => {
    const summary = job.summary ? ` Result: ${job.summary.slice(0, MAX_SUMMARY_CHARS)}` : '';
    return `- (${job.job_type}, ${job.status}) ${job.instruction}${summary}`;
  });
  return [
    'This directory holds an existing project that earlier requests built:',
    ...earlier,
    '',
    'Change it as follows:',
    request.instruction,
  ].join('\n');
}
