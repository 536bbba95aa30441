import type { Stats } from 'node:fs';
import { RESULT_MAX_BYTES, WorkerResult } from '@cwo/contracts';
import { checkRelativePath, InvalidPathError, relativeResultPath } from '@cwo/workspace';
import { NotARegularFileError, readRegularFile } from './safe-fs';

// `.codex/result.json` is written by the agent, so it is untrusted input: read without following
// links, size capped, parsed, schema checked, and every path it lists checked to stay inside the
// workspace. Each failure says which check failed; the job ends in error with that message.

export type ResultProblem = 'missing' | 'not_a_file' | 'too_large' | 'not_json' | 'schema' | 'path';

export class ResultFileError extends Error {
  constructor(
    readonly problem: ResultProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ResultFileError';
  }
}

export interface ResultFile {
  result: WorkerResult;
  /** The bytes as read, kept as the job's own copy. */
  raw: Buffer;
  /** The file's fstat as it was read (its copy can then be a second name of it: linkOrWrite). */
  stat: Stats;
}

export function readResultFile(workspace: string, maxBytes = RESULT_MAX_BYTES): ResultFile {
  let file;
  try {
    file = readRegularFile(workspace, relativeResultPath(), maxBytes);
  } catch (err) {
    if (err instanceof NotARegularFileError) {
      throw new ResultFileError('not_a_file', 'result.json is not a regular file (a link or a directory is refused)');
    }
    throw err;
  }
  if (!file) throw new ResultFileError('missing', 'result.json is missing: the agent wrote no .codex/result.json');
  if (file.size > maxBytes || file.data.length > maxBytes) {
    throw new ResultFileError('too_large', `result.json is too large: ${file.size} bytes (the limit is ${maxBytes})`);
  }

  let json: unknown;
  try {
    json = JSON.parse(file.data.toString('utf8'));
  } catch (err) {
    throw new ResultFileError('not_json', `result.json is not valid JSON: ${(err as Error).message}`);
  }

  const parsed = WorkerResult.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new ResultFileError('schema', `result.json does not match the result schema: ${issues}`);
  }

  const result = parsed.data;
  for (const list of ['created_files', 'modified_files', 'deleted_files'] as const) {
    for (const listed of result[list]) {
      try {
        checkRelativePath(listed);
      } catch (err) {
        if (!(err instanceof InvalidPathError)) throw err;
        throw new ResultFileError(
          'path',
          `result.json lists a path outside the workspace in ${list}: ${JSON.stringify(listed.slice(0, 200))} (${err.reason})`,
        );
      }
    }
  }
  return { result, raw: file.data, stat: file.stat };
}
