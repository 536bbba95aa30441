import fs from 'node:fs';
import path from 'node:path';
import type { WorkerRequest, WorkerResult } from '@cwo/contracts';
import { APP_PY, README_MD, TEST_CLI_PY } from './templates';

export const FORCE_ERROR_MARKER = 'force_error';

/** One line of an edit comment: the instruction on a single line, so app.py stays valid Python. */
function editComment(instruction: string): string {
  return `# Edit: ${instruction.replace(/\s+/g, ' ').trim()}\n`;
}

// Synchronous file calls: three small files, where the thread pool's hand-off would cost more
// than the writes (the runner runs this agent in-process).
const exists = (p: string): boolean => fs.statSync(p, { throwIfNoEntry: false }) !== undefined;

/**
 * The deterministic agent of dummy mode (docs/worker-protocol.md, "The dummy agent"). It works on a workspace directory and returns
 * the result it would write to `.codex/result.json`; the caller writes it (the runner in-process,
 * the worker entrypoint in the container), so both go through the same protocol.
 * `log` receives progress lines as they happen.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- every agent has this async signature (the codex agent awaits a process); this one happens to finish synchronously
export async function runDummyAgent(
  workspace: string,
  request: WorkerRequest,
  log: (line: string) => void = () => {},
): Promise<WorkerResult> {
  log(`dummy agent: ${request.job_type} job ${request.job_id}`);
  if (request.instruction.includes(FORCE_ERROR_MARKER)) {
    log('dummy agent: instruction asks for a forced error');
    return {
      status: 'error',
      summary: 'Forced error requested by the instruction.',
      created_files: [],
      modified_files: [],
      deleted_files: [],
      errors: ['forced_error'],
      logs: ['forced_error requested'],
      error_code: 'forced_error',
    };
  }

  if (request.job_type === 'initial_project') {
    const files: Array<[string, string]> = [
      ['README.md', README_MD],
      ['app.py', APP_PY],
      ['tests/test_cli.py', TEST_CLI_PY],
    ];
    const created: string[] = [];
    const modified: string[] = [];
    for (const [rel, contents] of files) {
      const target = path.join(workspace, rel);
      (exists(target) ? modified : created).push(rel);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, contents);
      log(`dummy agent: wrote ${rel}`);
    }
    return {
      status: 'success',
      summary: 'Generated a minimal Python CLI that prints the first 10 Fibonacci numbers, with a README and a test.',
      created_files: created,
      modified_files: modified,
      deleted_files: [],
      errors: [],
      logs: created.concat(modified).map((f) => `wrote ${f}`),
    };
  }

  const app = path.join(workspace, 'app.py');
  const existed = exists(app);
  fs.appendFileSync(app, editComment(request.instruction));
  log(`dummy agent: appended a comment to app.py`);
  return {
    status: 'success',
    summary: `Appended a comment to app.py describing the change: ${request.instruction.slice(0, 200)}`,
    created_files: existed ? [] : ['app.py'],
    modified_files: existed ? ['app.py'] : [],
    deleted_files: [],
    errors: [],
    logs: ['appended a comment to app.py'],
  };
}
