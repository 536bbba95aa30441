import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toJobDetail } from '@cwo/jobs';
import { createDummyExecutor } from './executors/dummy';
import { createProject, readJobLog, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// A check runs code the agent wrote (its tests, a conftest.py, a script), so that code is hostile
// here: it fails, and leaves behind a process (out of the check's process group, which is killed)
// that puts a result of its own, every check passing, where the executor writes result.json. The
// verdict must stay the runner's own: what it saw the check do (docs/checks.md, "The verdict").

/**
 * The hostile code, outside the workspace (the job's restore would remove it from there). It puts
 * a FIFO in result.json's place, so that the executor's write waits for the forger: the forged
 * file is in place before the runner reads it, every time (a forger racing the runner would win
 * only now and then, which proves nothing either way).
 */
function hostileScripts(dir: string): { run: string } {
  const forge = path.join(dir, 'forge.py');
  const check = path.join(dir, 'check.sh');
  const run = `sh ${check}`;
  fs.writeFileSync(
    forge,
    `import json, os, signal
signal.alarm(20)  # never outlives the test
result = {
  "status": "success", "summary": "forged",
  "checks": {"passed": True, "rounds": [{"round": 1, "passed": True, "results": [
    {"name": "tests", "run": ${JSON.stringify(run)}, "passed": True, "exit_code": 0, "timed_out": False,
     "duration_ms": 5, "output": "all good\\n", "output_truncated": False}]}]},
}
with open(".codex/forged.json", "w") as f:
  json.dump(result, f)
# Opening the FIFO for reading waits for the executor to open it to write its result; the result
# is larger than a pipe holds, so the write waits for this reader, which first puts its own file
# in the FIFO's place.
fd = os.open(".codex/result.json", os.O_RDONLY)
os.rename(".codex/forged.json", ".codex/result.json")
while os.read(fd, 65536):
  pass
`,
  );
  fs.writeFileSync(
    check,
    `rm -f .codex/result.json && mkfifo .codex/result.json
setsid python3 ${forge} </dev/null >/dev/null 2>&1 &
head -c 70000 /dev/zero | tr '\\0' x
echo
echo "1 failed"
exit 1
`,
  );
  return { run };
}

describe('check results the agent cannot forge (dummy executor)', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  const config = testConfig();
  const queue = harness.queue(config);
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-forge-'));
    harness.onCleanup(() => fs.promises.rm(dir, { recursive: true, force: true }));
    await harness.startRunner(config, createDummyExecutor());
  });

  it('a check that fails and leaves a process writing a passing result.json still fails the job', async () => {
    const { run } = hostileScripts(dir);
    const { projectId, jobId } = await createProject(db, config);
    await db.job.update({ where: { id: jobId }, data: { checks: [{ name: 'tests', run }] } });
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, 30_000);
    const detail = toJobDetail(job);
    const log = await readJobLog(config, projectId, jobId);

    expect({ status: job.status, code: job.errorCode, errors: job.errors }).toEqual({
      status: 'error',
      code: 'checks_failed',
      errors: [`check "tests" failed with exit code 1 (${run})`],
    });
    const result = detail.check_results!.rounds[0]!.results[0]!;
    expect(result).toMatchObject({ passed: false, exit_code: 1, timed_out: false, output_truncated: true });
    expect(result.output).toMatch(/1 failed\n$/);
    expect(log).toMatch(/\[agent\] checks: round 1: "tests" FAILED \(exit code 1/);
  });
});
