// A first start, as a new user makes it: an empty database, the runner started before the API,
// readable logs written to a file (stdout is a pipe here, as with `pnpm start > log`).
import fs from 'node:fs';
import path from 'node:path';
import { Stack } from './helpers/stack';

/** The checked-in migrations: all of them are applied on a first start. */
const MIGRATIONS = fs
  .readdirSync(path.join(__dirname, '..', 'prisma', 'migrations'))
  .filter((name) => /^\d+_/.test(name)).length;

// eslint-disable-next-line no-control-regex -- ESC is exactly what colour codes start with
const ANSI = /\u001b\[/;
/** Longer than any line a person reads; Prisma's minified runtime ran to 33,000 characters. */
const MAX_LINE = 2000;

describe('a first start on an empty database', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.create('first', { migrate: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('the runner brings the schema up to date itself and says so in one line; the API then finds it ready', async () => {
    const readable = { NODE_ENV: 'development' };
    const runner = await stack.startRunner('runner', readable);
    const api = await stack.startApi(readable);

    const project = await api.createProject('Generate a minimal Python CLI that prints Fibonacci numbers.');
    const job = await api.waitForJob(project.id, project.job.id);
    expect(job.status).toBe('completed');

    const runnerLines = runner.output().split('\n');
    expect(runnerLines.filter((l) => /database schema/.test(l))).toEqual([
      expect.stringMatching(
        new RegExp(
          ` info \\[runner\\] database schema: applied ${MIGRATIONS} of ${MIGRATIONS} migrations \\(20261125160031_init, `,
        ),
      ),
    ]);
    const apiLines = api.process.output().split('\n');
    expect(apiLines.filter((l) => /database schema/.test(l))).toEqual([
      expect.stringMatching(new RegExp(` info \\[api\\] database schema up to date \\(${MIGRATIONS} migrations\\)$`)),
    ]);
    for (const line of [...runnerLines, ...apiLines]) {
      expect(line.length).toBeLessThan(MAX_LINE);
      expect(line).not.toMatch(ANSI);
      expect(line).not.toMatch(/ (warn|error) /);
    }
  });
});
