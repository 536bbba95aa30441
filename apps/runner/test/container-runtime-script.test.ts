import { spawnSync } from 'node:child_process';
import path from 'node:path';

// scripts/container-runtime.sh needs root (packages, firewall rules, bridges, the daemons): run as
// anyone else it says so and stops at once, before it makes any state (here as `nobody`).

const SCRIPT = path.join(__dirname, '..', '..', '..', 'scripts', 'container-runtime.sh');

describe('scripts/container-runtime.sh as a normal user', () => {
  it('says it must run as root and exits 1 at once, printing no export lines', () => {
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const started = Date.now();
    const run = spawnSync(
      asNobody[0] ?? 'bash',
      [...asNobody.slice(1), ...(asNobody.length ? ['bash'] : []), SCRIPT, '--env'],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 1, stdout: '' });
    expect(run.stderr).toMatch(/^container-runtime: must run as root .*sudo/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
