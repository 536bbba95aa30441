import fs from 'node:fs/promises';
import path from 'node:path';

/** Left to the runner: each job's history (its request, result and log copies). */
const RUNNER_OWNED = [path.join('.codex', 'jobs')];

/**
 * Makes the workspace belong to the worker's uid:gid (WORKER_UID), so the agent, which runs as
 * that user and not as root, can write in it, and the files it writes belong to a known uid on the
 * host. Only entries owned by someone else are changed; symbolic links are changed themselves,
 * never followed. Requires the runner to be root, or to run as that very uid (then nothing to do).
 */
export async function giveWorkspaceTo(workspace: string, owner: { uid: number; gid: number }): Promise<number> {
  const skip = new Set(RUNNER_OWNED.map((rel) => path.join(workspace, rel)));
  let changed = 0;
  const visit = async (p: string): Promise<void> => {
    if (skip.has(p)) return;
    let stat;
    try {
      stat = await fs.lstat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile
      throw err;
    }
    if (stat.uid !== owner.uid || stat.gid !== owner.gid) {
      await fs.lchown(p, owner.uid, owner.gid);
      changed++;
    }
    if (stat.isDirectory()) {
      const entries = await fs.readdir(p);
      await Promise.all(entries.map((name) => visit(path.join(p, name))));
    }
  };
  await visit(workspace);
  return changed;
}
