import { PassThrough } from 'node:stream';
import { createLogger, redact, redactString } from './index';

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
