import { PassThrough } from 'node:stream';
import { createDb } from '@cwo/db';
import { colorsByDefault, createLogger, redact, redactString } from './index';

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  return { stream, lines };
}

describe('secret redaction', () => {
  it('hides API keys, bearer tokens and URL passwords wherever they appear in a string', () => {
    const s = redactString(
      'key sk-proj-abcdefghijklmnop auth Bearer abc.def.ghi url postgresql://user:hunter2@db:5432/x',
    );
    expect(s).not.toMatch(/abcdefghijklmnop|abc\.def\.ghi|hunter2/);
    expect(s).toContain('postgresql://user:[REDACTED]@db:5432/x');
  });

  it('hides the secret part of our own API keys, keeping their prefix', () => {
    const key = `cwo_AbCd1234_${'x'.repeat(43)}`;
    expect(redactString(`bad key ${key} used`)).toBe('bad key cwo_AbCd1234_[REDACTED] used');
  });

  it('hides an ssh deploy key by its field name and by its armour wherever it appears', () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    const out = redact({
      source: { git: { url: 'ssh://git@h/r.git', ssh_key: pem, known_hosts: 'h ssh-ed25519 AAAA' } },
    });
    expect(out).toEqual({
      source: { git: { url: 'ssh://git@h/r.git', ssh_key: '[REDACTED]', known_hosts: 'h ssh-ed25519 AAAA' } },
    });
    expect(redactString(`git said: ${pem}\n`)).toBe(
      'git said: -----BEGIN OPENSSH PRIVATE KEY----- [REDACTED] -----END OPENSSH PRIVATE KEY-----\n',
    );
  });

  it('hides the values of secret-named keys at any depth, keeping the rest', () => {
    const out = redact({ env: { OPENAI_API_KEY: 'x1', PATH: '/bin' }, headers: { authorization: 'y' }, n: 1 }) as {
      env: Record<string, string>;
      headers: Record<string, string>;
      n: number;
    };
    expect(out.env.OPENAI_API_KEY).toBe('[REDACTED]');
    expect(out.env.PATH).toBe('/bin');
    expect(out.headers.authorization).toBe('[REDACTED]');
    expect(out.n).toBe(1);
  });

  it('a logger never writes a secret, in the message or in the metadata', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ format: 'json', stream, service: 'test' });
    logger.info('calling with sk-live-0123456789abcdef', { apiKey: 'plain-secret', job: 'j1' });
    await new Promise((r) => setImmediate(r));
    const entry = JSON.parse(lines[0]!);
    expect(JSON.stringify(entry)).not.toMatch(/0123456789abcdef|plain-secret/);
    expect(entry.job).toBe('j1');
    expect(entry.service).toBe('test');
    expect(entry.level).toBe('info');
  });
});

// test/services.js is CommonJS shared with the test set-ups.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../../test/services') as {
  createTestDatabase(label: string, options?: { migrate?: boolean }): Promise<{ name: string; databaseUrl: string }>;
  dropTestDatabase(name: string): Promise<void>;
};

/**
 * What Prisma's client really throws for a query on a table that does not exist (the runner hit
 * it on a fresh database): its message quotes the call site from its minified runtime.
 */
async function realPrismaError(): Promise<Error> {
  const database = await services.createTestDatabase('logger', { migrate: false });
  const db = createDb(database.databaseUrl);
  try {
    await db.job.findMany();
    throw new Error('expected Prisma to fail on a database without tables');
  } catch (err) {
    return err as Error;
  } finally {
    await db.$disconnect();
    await services.dropTestDatabase(database.name);
  }
}

describe('errors in log lines', () => {
  const flush = () => new Promise((r) => setImmediate(r));
  let prismaError: Error;
  beforeAll(async () => {
    prismaError = await realPrismaError();
    // What the lines below must not carry.
    expect(prismaError.message.length).toBeGreaterThan(2000);
  });
  const prismaLikeError = () => prismaError;

  it('are their message, code and a short stack, never a library’s minified source', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ format: 'json', stream, service: 'runner' });
    logger.warn('reconciler pass failed', { error: prismaLikeError() });
    await flush();
    expect(lines[0]!.length).toBeLessThan(2000);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({
      level: 'warn',
      message: 'reconciler pass failed',
      service: 'runner',
      error: {
        name: 'PrismaClientKnownRequestError',
        message: 'The table `public.jobs` does not exist in the current database.',
        code: 'P2021',
      },
    });
    expect(entry.error.stack.split('\n').length).toBeLessThanOrEqual(6);
    expect(entry.error.stack).toMatch(/^at /);
  });

  it('the same when the error is the message or the argument after it', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ format: 'json', stream, service: 'api' });
    logger.error(prismaLikeError());
    logger.warn('could not list projects', prismaLikeError());
    await flush();
    const [alone, after] = lines.map((l) => JSON.parse(l));
    for (const line of lines) expect(line.length).toBeLessThan(2000);
    expect(alone).toMatchObject({
      level: 'error',
      service: 'api',
      message: 'The table `public.jobs` does not exist in the current database.',
      error: { code: 'P2021' },
    });
    expect(after).toMatchObject({
      level: 'warn',
      service: 'api',
      message: 'could not list projects: The table `public.jobs` does not exist in the current database.',
      error: { code: 'P2021' },
    });
    expect(after).not.toHaveProperty('clientVersion');
  });

  it('keep the cause, and cut any other overlong field', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ format: 'json', stream });
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    logger.warn('x', { error: new Error('database unavailable', { cause }), output: 'y'.repeat(100_000) });
    await flush();
    const entry = JSON.parse(lines[0]!);
    expect(entry.error.cause).toMatchObject({ message: 'connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' });
    expect(entry.output.length).toBeLessThan(5000);
    expect(entry.output).toMatch(/… \(96000 more characters\)$/);
  });

  it('print their frames below the line in the readable format', async () => {
    const { stream, lines } = capture();
    createLogger({ format: 'pretty', stream, service: 'api' }).error('request failed', { error: new Error('boom') });
    await flush();
    const [first, ...frames] = lines.join('\n').split('\n');
    expect(first).toMatch(/ error \[api\] request failed {"error":{"name":"Error","message":"boom"}}$/);
    expect(frames[0]).toMatch(/^ {4}at /);
  });
});

describe('colours', () => {
  const flush = () => new Promise((r) => setImmediate(r));
  const ESC = '\u001b[';

  it('none in the readable format when writing to a file or a pipe', async () => {
    const { stream, lines } = capture();
    createLogger({ format: 'pretty', stream }).info('hello');
    await flush();
    expect(lines[0]).toMatch(/ info \[app\] hello$/);
    expect(lines[0]).not.toContain(ESC);
  });

  it('on a terminal, unless NO_COLOR is set', async () => {
    const { stream, lines } = capture();
    Object.assign(stream, { isTTY: true });
    expect(colorsByDefault(stream, {})).toBe(true);
    expect(colorsByDefault(stream, { NO_COLOR: '1' })).toBe(false);
    expect(colorsByDefault(capture().stream, {})).toBe(false);
    createLogger({ format: 'pretty', stream, colors: colorsByDefault(stream, {}) }).info('hello');
    await flush();
    expect(lines[0]).toContain(`${ESC}32minfo${ESC}39m`);
  });
});
