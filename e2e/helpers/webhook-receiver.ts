// A webhook receiver for tests: a real HTTP server on 127.0.0.1 that checks every request's
// signature with the Standard Webhooks reference library (`standardwebhooks`), as a receiver in
// the wild would, and records what arrived. Its answers can be scripted (500 a few times, then
// 200; always 500; a body of one's own, or none at all).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Arrival {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** What the signature check said: null when it verified with one of the secrets. */
  verifyError: string | null;
  /** The parsed payload (when it verified). */
  payload: { type: string; timestamp: string; data: Record<string, unknown> } | null;
  /** The status this receiver answered. */
  answered: number;
}

export interface Receiver {
  url: string;
  port: number;
  arrivals: Arrival[];
  /** The secrets it verifies with (any one of them must match). */
  secrets: string[];
  /** The status of the next answers, in order; then `otherwise`. */
  script: number[];
  otherwise: number;
  /** How it answers, given the status chosen; by default `answered <status>` as text. */
  reply: (res: http.ServerResponse, status: number) => void;
  close(): Promise<void>;
  /** Arrivals that verified, in order. */
  verified(): Array<NonNullable<Arrival['payload']> & { id: string }>;
}

export async function startReceiver(path = '/hooks'): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    port: 0,
    arrivals: [],
    secrets: [],
    script: [],
    otherwise: 200,
    reply: (res, status) => res.writeHead(status, { 'content-type': 'text/plain' }).end(`answered ${status}`),
    close: () => Promise.resolve(),
    verified: () =>
      receiver.arrivals
        .filter((a) => a.verifyError === null && a.payload)
        .map((a) => ({ ...a.payload!, id: String(a.headers['webhook-id']) })),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verifyError: string | null = 'no secret to verify with';
      let payload: Arrival['payload'] = null;
      for (const secret of receiver.secrets) {
        try {
          payload = new Webhook(secret).verify(body, req.headers as Record<string, string>) as Arrival['payload'];
          verifyError = null;
          break;
        } catch (err) {
          verifyError = (err as Error).message;
        }
      }
      const answered = receiver.script.shift() ?? receiver.otherwise;
      receiver.arrivals.push({ headers: req.headers, body, verifyError, payload, answered });
      receiver.reply(res, answered);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}${path}`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
