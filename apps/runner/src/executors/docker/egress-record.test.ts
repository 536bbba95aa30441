import { EGRESS_CONNECTIONS_KEPT, type EgressConnection } from '@cwo/contracts';
import { createEgressRecorder } from './egress-record';

const connection = (over: Partial<EgressConnection> = {}): EgressConnection => ({
  host: 'api.openai.com',
  port: 443,
  method: 'CONNECT',
  allowed: true,
  status: 200,
  address: '192.0.2.10',
  bytes_sent: 2048,
  bytes_received: 10 * 1024 * 1024,
  duration_ms: 1500,
  started_at: '2026-12-01T10:00:00.000Z',
  error: null,
  ...over,
});
const line = (c: EgressConnection) => JSON.stringify({ type: 'close', ...c });

describe('a job’s egress record, from its proxy’s events', () => {
  it('logs each attempt as it ends, denied ones saying so, and sums them', () => {
    const lines: string[] = [];
    const recorder = createEgressRecorder(['api.openai.com:443'], (l) => lines.push(l));
    expect(recorder.take(JSON.stringify({ type: 'ready', address: '10.164.3.2', port: 3128 }))).toEqual({
      type: 'ready',
      address: '10.164.3.2',
      port: 3128,
    });
    recorder.take(JSON.stringify({ type: 'open', method: 'CONNECT', host: 'api.openai.com', port: 443 }));
    recorder.take(line(connection()));
    recorder.take(
      line(
        connection({ host: 'pypi.org', allowed: false, status: 403, address: null, bytes_sent: 0, bytes_received: 0 }),
      ),
    );
    recorder.take('TypeError: something the proxy printed');

    expect(lines).toEqual([
      'egress: CONNECT api.openai.com:443 allowed, connecting',
      'egress: CONNECT api.openai.com:443 (192.0.2.10) closed (status 200) after 1.5 s: 2.0 kB sent, 10.0 MB received',
      'egress: DENIED CONNECT pypi.org:443: not on the allowlist (WORKER_EGRESS_ALLOW); the agent got 403',
      'egress proxy: TypeError: something the proxy printed',
    ]);
    expect(recorder.record()).toMatchObject({
      mode: 'allowlist',
      allow: ['api.openai.com:443'],
      attempted: 2,
      allowed: 1,
      denied: 1,
      bytes_sent: 2048,
      bytes_received: 10 * 1024 * 1024,
      truncated: false,
    });
  });

  it(`keeps and logs the first ${EGRESS_CONNECTIONS_KEPT} connections, and counts every one`, () => {
    const lines: string[] = [];
    const recorder = createEgressRecorder([], (l) => lines.push(l));
    for (let i = 0; i < EGRESS_CONNECTIONS_KEPT + 20; i++) recorder.take(line(connection({ bytes_sent: 1 })));
    const record = recorder.record();
    expect(record.connections).toHaveLength(EGRESS_CONNECTIONS_KEPT);
    expect(record).toMatchObject({
      attempted: EGRESS_CONNECTIONS_KEPT + 20,
      bytes_sent: EGRESS_CONNECTIONS_KEPT + 20,
      truncated: true,
    });
    expect(lines).toHaveLength(EGRESS_CONNECTIONS_KEPT + 1);
    expect(lines.at(-1)).toBe(
      `egress: more than ${EGRESS_CONNECTIONS_KEPT} connections: the rest are counted, not listed`,
    );
  });
});
