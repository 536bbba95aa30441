// The install steps of `bash scripts/bootstrap.sh` (which start.sh runs first), as a new user's
// fresh clone takes them: nothing a user would have to wonder about, such as Prisma's "please
// install Prisma CLI" or a package manager's warning about build or install scripts it was not
// told to run or skip.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
const PNPM_VERSION = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { packageManager: string }
).packageManager.split('@')[1]!;

/** What pnpm, npm and Prisma print when a build or install script was not run, or ran without its CLI. */
const SCRIPT_WARNINGS = [
  /please install Prisma CLI/i,
  /ignored build scripts/i,
  /approve-builds/i,
  /ERR_PNPM_IGNORED_BUILDS/,
  /install-scripts/i,
  /allow-?scripts/i,
];

/** The environment of a shell: none of the npm_* settings that the test runner's pnpm passes on. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_|INIT_CWD$)/i.test(k)));
  return { ...env, ...extra };
}

/** Runs a command; resolves with its exit code and everything it printed, both streams in order. */
function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

function expectNoScriptWarnings(output: string): void {
  for (const pattern of SCRIPT_WARNINGS) {
    expect([pattern.source, output.split('\n').filter((l) => pattern.test(l))]).toEqual([pattern.source, []]);
  }
}

describe('a fresh install', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-install-'));
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('pnpm install of a fresh copy of the tree generates the Prisma client and warns about no script', async () => {
    // The tracked files as they are now (a clone would miss changes not yet committed).
    const tree = path.join(scratch, 'tree');
    const files = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT, shellEnv());
    for (const file of files.output.split('\0').filter(Boolean)) {
      const from = path.join(ROOT, file);
      if (!fs.existsSync(from)) continue;
      fs.mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
      fs.copyFileSync(from, path.join(tree, file));
    }
    // --offline: bootstrap.sh has filled the store already; this is about what the install prints.
    const install = await run('pnpm', ['install', '--frozen-lockfile', '--offline'], tree, shellEnv());
    expect([install.code, install.output]).toEqual([0, expect.stringContaining('Generated Prisma Client')]);
    expectNoScriptWarnings(install.output);
    expect(fs.existsSync(path.join(tree, 'packages', 'db', 'generated', 'client', 'index.js'))).toBe(true);
  }, 300_000);

  it('scripts/install-pnpm.sh installs the pinned pnpm with npm, and npm warns about no install script', async () => {
    const prefix = path.join(scratch, 'npm-global');
    const env = shellEnv({ npm_config_prefix: prefix, npm_config_prefer_offline: 'true' });
    const install = await run('bash', [path.join(ROOT, 'scripts', 'install-pnpm.sh'), PNPM_VERSION], ROOT, env);
    expect([install.code, install.output]).toEqual([0, '']);
    expectNoScriptWarnings(install.output);
    // pnpm's install script ran: the binary it puts in place answers.
    const version = await run(path.join(prefix, 'bin', 'pnpm'), ['--version'], scratch, env);
    expect(version.output.trim()).toBe(PNPM_VERSION);
  }, 300_000);
});
