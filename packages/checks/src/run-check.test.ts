import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHECK_OUTPUT_MAX_BYTES } from '@cwo/contracts';
import { checkEnvironment } from './check-environment';
import { OutputTail } from './output-tail';
import { runCheck } from './run-check';

/** Whether `pid` runs (a zombie left for a non-reaping init does not). */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('runCheck: one check, sh -c in the workspace', () => {
  let dir: string;
  let lines: string[];
  const ctx = () => ({ cwd: dir, env: checkEnvironment(process.env), log: (l: string) => lines.push(l) });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-check-'));
    lines = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('passes on exit 0, in the workspace, with its output streamed as lines and kept', async () => {
    fs.writeFileSync(path.join(dir, 'marker.txt'), 'here\n');
    const result = await runCheck({ name: 'cat', run: 'cat marker.txt; echo to-stderr >&2' }, ctx());
    expect(result).toMatchObject({
      name: 'cat',
      passed: true,
      exit_code: 0,
      timed_out: false,
      output_truncated: false,
    });
    expect(result.output).toBe('here\nto-stderr\n');
    expect(lines).toEqual(['check cat: here', 'check cat: to-stderr']);
  });

  it('fails on a non-zero exit, with the code and the output', async () => {
    const result = await runCheck({ name: 'bad', run: 'echo broken; exit 3' }, ctx());
    expect(result).toMatchObject({ passed: false, exit_code: 3, timed_out: false, output: 'broken\n' });
  });

  it('stops a check past its time limit, and everything it started, and says so', async () => {
    const pidFile = path.join(dir, 'child.pid');
    const started = Date.now();
    const result = await runCheck(
      { name: 'slow', run: `sleep 60 & echo $! > ${pidFile}; echo waiting; wait`, timeout_seconds: 1 },
      { ...ctx(), killGraceMs: 200 },
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result).toMatchObject({ passed: false, exit_code: null, timed_out: true, output: 'waiting\n' });
    expect(result.duration_ms).toBeGreaterThanOrEqual(1000);
    const child = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(isRunning(child)).toBe(false); // the background sleep is gone too
  });

  it('leaves nothing running when the shell exits before what it started', async () => {
    const pidFile = path.join(dir, 'bg.pid');
    const result = await runCheck(
      { name: 'bg', run: `(sleep 60 >/dev/null 2>&1 &) ; sleep 60 & echo $! > ${pidFile}` },
      ctx(),
    );
    expect(result.exit_code).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    expect(isRunning(pid)).toBe(false);
  });

  it('keeps only the last 64 KB of a long output, starting at a whole character, NUL shown as U+FFFD', async () => {
    const result = await runCheck(
      {
        name: 'long',
        run: `python3 -c "import sys; sys.stdout.write('é' * 100000 + '\\0' + 'END')"`,
      },
      ctx(),
    );
    expect(result.output_truncated).toBe(true);
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(CHECK_OUTPUT_MAX_BYTES + 2);
    expect(result.output.endsWith('\uFFFDEND')).toBe(true);
    expect(result.output.startsWith('é')).toBe(true);
  });

  it('does not hand the agent’s model credentials to a check, and keeps Python from leaving caches', async () => {
    const result = await runCheck(
      { name: 'env', run: 'echo "key=${OPENAI_API_KEY:-none} bytecode=$PYTHONDONTWRITEBYTECODE"' },
      { cwd: dir, env: checkEnvironment({ ...process.env, OPENAI_API_KEY: 'sk-secret' }), log: () => undefined },
    );
    expect(result.output).toBe('key=none bytecode=1\n');
  });

  it('an aborted check is stopped at once', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await runCheck({ name: 'cancelled', run: 'sleep 30' }, { ...ctx(), signal: controller.signal });
    expect(result).toMatchObject({ passed: false, exit_code: null, timed_out: false });
    expect(result.duration_ms).toBeLessThan(5000);
  });
});

describe('OutputTail', () => {
  it('holds about its cap in memory however much is pushed', () => {
    const tail = new OutputTail(1000);
    for (let i = 0; i < 10_000; i++) tail.push(Buffer.from(`line ${i}\n`));
    expect(tail.truncated).toBe(true);
    expect(tail.text().endsWith('line 9999\n')).toBe(true);
    expect(Buffer.byteLength(tail.text())).toBeLessThanOrEqual(1000);
  });
});

// Sanity: the host has what these tests need (python3), said plainly rather than as a confusing failure.
beforeAll(() => {
  try {
    execFileSync('python3', ['--version']);
  } catch {
    throw new Error('python3 is needed by these tests (scripts/bootstrap.sh installs it)');
  }
});
