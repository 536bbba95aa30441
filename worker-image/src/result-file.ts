import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { WorkerRequest, type WorkerResult } from '@cwo/contracts';
import { requestFile, resultFile } from '@cwo/workspace';

/** request.json is missing, unreadable or does not match the protocol. */
export class InvalidRequestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidRequestError';
  }
}

export async function readRequest(workspace: string): Promise<WorkerRequest> {
  const file = requestFile(workspace);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidRequestError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidRequestError(`${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = WorkerRequest.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidRequestError(`${file} does not match the worker protocol: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Writes result.json in one step (a temporary file, then a rename), so the runner, or a client
 * polling the workspace, never reads half of it.
 */
export async function writeResultAtomically(workspace: string, result: WorkerResult): Promise<string> {
  const file = resultFile(workspace);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // A name no one can guess, made anew ('wx': never through a FIFO or a link planted there).
  const tmp = path.join(path.dirname(file), `.result.json.${crypto.randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.writeFile(tmp, `${JSON.stringify(result, null, 2)}\n`, { flag: 'wx' });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  return file;
}
