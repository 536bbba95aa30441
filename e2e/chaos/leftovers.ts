// What a chaos run started, written down as it goes (a manifest in the temporary directory), so
// that a run that could not clean up after itself (killed with SIGKILL, the machine's OOM killer)
// is cleaned up by the next one: its processes killed, its Postgres cluster stopped, its disk
// unmounted, its directories removed. Only manifests of runs whose process is gone are swept, so
// chaos runs of other checkouts on the same machine are left alone.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Manifest {
  pid: number;
  /** Processes to kill: the API, the runners, redis-server. */
  pids: number[];
  /** A Postgres data directory to stop (pg_ctl, as `pgUser`), then remove with `dirs`. */
  postgres?: { pgCtl: string; dataDir: string; user?: string };
  /** Mount points to unmount (the small disk). */
  mounts: string[];
  /** Directories to remove. */
  dirs: string[];
}

const PREFIX = 'cwo-chaos-run-';
const manifestFile = (pid: number) => path.join(os.tmpdir(), `${PREFIX}${pid}.json`);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The manifest of this run: call `save` after every change; `remove` once everything is stopped. */
export class RunManifest {
  readonly data: Manifest = { pid: process.pid, pids: [], mounts: [], dirs: [] };

  save(): void {
    fs.writeFileSync(manifestFile(process.pid), JSON.stringify(this.data));
  }

  remove(): void {
    fs.rmSync(manifestFile(process.pid), { force: true });
  }
}

/** A process of the run (checked by its command line, as a pid may have been reused since). */
function isOurs(pid: number): boolean {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /apps\/(api|runner)\/dist\/main\.js|redis-server/.test(cmd);
  } catch {
    return false;
  }
}

/** Cleans up after earlier runs whose process is gone; returns what it found. */
export function sweepLeftovers(): string[] {
  const swept: string[] = [];
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith(PREFIX) || !name.endsWith('.json')) continue;
    const file = path.join(os.tmpdir(), name);
    let m: Manifest;
    try {
      m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
    } catch {
      continue;
    }
    if (alive(m.pid)) continue;
    for (const pid of m.pids) {
      if (alive(pid) && isOurs(pid)) {
        process.kill(pid, 'SIGKILL');
        swept.push(`process ${pid}`);
      }
    }
    if (m.postgres && fs.existsSync(path.join(m.postgres.dataDir, 'postmaster.pid'))) {
      const args = ['-D', m.postgres.dataDir, '-m', 'immediate', 'stop'];
      try {
        if (m.postgres.user)
          execFileSync('runuser', ['-u', m.postgres.user, '--', m.postgres.pgCtl, ...args], { stdio: 'pipe' });
        else execFileSync(m.postgres.pgCtl, args, { stdio: 'pipe' });
        swept.push(`Postgres in ${m.postgres.dataDir}`);
      } catch {
        // not running any more
      }
    }
    for (const mount of m.mounts) {
      try {
        execFileSync('umount', ['-l', mount], { stdio: 'pipe' });
        swept.push(`mount ${mount}`);
      } catch {
        // not mounted
      }
    }
    for (const dir of m.dirs) fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(file, { force: true });
  }
  return swept;
}
