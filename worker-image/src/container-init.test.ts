import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkerResult } from '@cwo/contracts';
import { requestFile, resultFile } from '@cwo/workspace';

// The built entrypoint as the container runs it: PID 1 of a PID namespace of its own (unshare,
// with a user namespace, so no root is needed), where every other process is the agent's or a
// check's. Checks run code the agent wrote, so here that code is hostile: it leaves processes
// behind (out of the check's process group, which is killed) that change what the next check
// sees or put a forged result where the worker writes its own. docs/checks.md, "The verdict".

const ENTRY = path.resolve(__dirname, '..', 'dist', 'main.js');

let workspace: string;
beforeEach(async () => {
  workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-init-'));
});
afterEach(async () => {
  await fs.rm(workspace, { recursive: true, force: true });
});

async function runAsInit(checks: Array<{ name: string; run: string }>): Promise<{ result: WorkerResult; out: string }> {
  await fs.mkdir(path.dirname(requestFile(workspace)), { recursive: true });
  await fs.writeFile(
    requestFile(workspace),
    JSON.stringify({
      project_id: '2f4c8d36-1c1e-4f55-9a57-1d0e6e7c0a01',
      job_id: '2f4c8d36-1c1e-4f55-9a57-1d0e6e7c0a02',
      job_type: 'initial_project',
      instruction: 'Build the Fibonacci CLI',
      checks,
    }),
  );
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      'unshare',
      ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc', process.execPath, ENTRY],
      { env: { PATH: process.env.PATH, WORKSPACE_DIR: workspace }, timeout: 30_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout)),
    ),
  );
  return { result: WorkerResult.parse(JSON.parse(await fs.readFile(resultFile(workspace), 'utf8'))), out };
}

describe('the worker as the container’s first process', () => {
  it('runs each check with nothing else left running: a process an earlier one left is gone', async () => {
    const { result, out } = await runAsInit([
      {
        name: 'leaves',
        run: "setsid sh -c 'while :; do touch marker; sleep 0.01; done' </dev/null >/dev/null 2>&1 & sleep 0.1",
      },
      { name: 'alone', run: 'rm -f marker; sleep 0.3; test ! -e marker' },
    ]);
    expect(result.checks!.rounds[0]!.results.map((r) => [r.name, r.exit_code])).toEqual([
      ['leaves', 0],
      ['alone', 0],
    ]);
    expect(out).toMatch(/worker: stopped \d+ process\(es\) left running by the agent or a check/);
  });

  it('writes its result with nothing else running: a forger left by a check cannot put its own in place', async () => {
    const forge = path.join(workspace, 'forge.py');
    const run = `sh -c 'setsid python3 ${forge} </dev/null >/dev/null 2>&1 & sleep 0.2; head -c 70000 /dev/zero | tr "\\0" x; exit 1'`;
    // The worker's temporary file was .result.json.<pid>.tmp, and its pid is 1 here: the forger
    // puts a FIFO there, so the worker's write waits for it, and its own file in the FIFO's place
    // before it drains it (the result, with the check's output, is more than a pipe holds).
    await fs.writeFile(
      forge,
      `import json, os
forged = {"status": "success", "summary": "forged", "checks": {"passed": True, "rounds": [{"round": 1,
  "passed": True, "results": [{"name": "tests", "run": ${JSON.stringify(run)}, "passed": True, "exit_code": 0,
  "timed_out": False, "duration_ms": 5, "output": "all good\\n", "output_truncated": False}]}]}}
with open(".codex/forged.json", "w") as f:
  json.dump(forged, f)
os.mkfifo(".codex/.result.json.1.tmp")
fd = os.open(".codex/.result.json.1.tmp", os.O_RDONLY)
os.rename(".codex/forged.json", ".codex/.result.json.1.tmp")
while os.read(fd, 65536):
  pass
`,
    );
    const { result } = await runAsInit([{ name: 'tests', run }]);
    expect(result.summary).not.toBe('forged');
    expect(result.checks!.rounds[0]!.results[0]).toMatchObject({ name: 'tests', passed: false, exit_code: 1 });
  });
});
