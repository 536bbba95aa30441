import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { EgressRecord } from '@cwo/contracts';
import { lineWriter } from '../output-lines';
import { InfrastructureError } from '../types';
import { createOnNetworks } from './attach-networks';
import { dockerMessage, statusCodeOf, type SealedNetwork } from '@cwo/container-engine';
import { createEgressRecorder } from './egress-record';

// The egress proxy of one sealed network: a container of the worker image run with the proxy's
// entrypoint (worker-image/src/egress-proxy), on the sealed network and on a normal one
// (WORKER_EGRESS_NETWORK), hardened like a worker. Its output is its events, one JSON line each.

export const EGRESS_PROXY_PORT = 3128;
/** The proxy's own limits: it holds sockets and buffers, nothing else. */
const PROXY_MEMORY = 128 * 1024 ** 2;
const PROXY_PIDS = 64;
/** How long the proxy may take to say it listens. */
const READY_TIMEOUT_MS = 20_000;
/** How long it has to end its connections (and report them) when stopped. */
const STOP_GRACE_SECONDS = 5;

export interface EgressProxyContainer {
  id: string;
  /** The proxy's address on the sealed network. */
  address: string;
  port: number;
  /** Stops the proxy (its open connections end and are reported), removes it, returns the record. */
  stop(): Promise<EgressRecord>;
}

export interface StartEgressProxyOptions {
  docker: Docker;
  image: string;
  name: string;
  labels: Record<string, string>;
  sealed: SealedNetwork;
  /** The normal network it reaches out through. */
  outward: string;
  allow: string[];
  user: { uid: number; gid: number };
  log: (line: string) => void;
}

export async function startEgressProxyContainer(opts: StartEgressProxyOptions): Promise<EgressProxyContainer> {
  const { docker, sealed, log } = opts;
  const recorder = createEgressRecorder(opts.allow, log);
  let container: Docker.Container;
  try {
    container = await createOnNetworks(
      docker,
      {
        name: opts.name,
        Image: opts.image,
        Entrypoint: ['node', '/opt/cwo-worker/dist/egress-proxy.js'],
        Cmd: [],
        Env: [
          `EGRESS_ALLOW=${opts.allow.join(',')}`,
          `EGRESS_LISTEN_SUBNET=${sealed.subnet}`,
          `EGRESS_PORT=${EGRESS_PROXY_PORT}`,
        ],
        User: `${opts.user.uid}:${opts.user.gid}`,
        Labels: opts.labels,
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: {
          Memory: PROXY_MEMORY,
          MemorySwap: PROXY_MEMORY,
          NanoCpus: 0.5e9,
          PidsLimit: PROXY_PIDS,
          ReadonlyRootfs: true,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          AutoRemove: false,
        },
      },
      [sealed.name, opts.outward],
    );
  } catch (err) {
    if (statusCodeOf(err) === 404 && dockerMessage(err).includes(opts.outward)) {
      throw new Error(
        `the egress network "${opts.outward}" does not exist: create it (docker network create ${opts.outward}) or set WORKER_EGRESS_NETWORK to a network of the engine`,
        { cause: err },
      );
    }
    throw err;
  }

  const remove = async () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      try {
        await container.remove({ force: true, v: true });
        return;
      } catch (err) {
        if (statusCodeOf(err) === 404) return;
        await delay(100 * attempt);
      }
    }
  };

  let ready: (event: { address: string; port: number }) => void = () => undefined;
  const readyEvent = new Promise<{ address: string; port: number }>((resolve) => (ready = resolve));
  const stdout = lineWriter((line) => {
    const event = recorder.take(line);
    if (event) ready(event);
  });
  const stderr = lineWriter((line) => log(`egress proxy: ${line}`));
  let stream: Duplex | undefined;
  let outputEnded: Promise<void> = Promise.resolve();
  try {
    const attached = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Duplex;
    stream = attached;
    outputEnded = new Promise<void>((resolve) => {
      attached.once('end', resolve);
      attached.once('close', resolve);
      attached.once('error', () => resolve());
    });
    docker.modem.demuxStream(attached, stdout, stderr);
    await container.start();
    const exited = (container.wait() as Promise<{ StatusCode: number }>).then((r) => r.StatusCode);
    const started = await Promise.race([
      readyEvent,
      exited.then(
        (code) => new Error(`the egress proxy exited with code ${code} before it listened (see the job log)`),
      ),
      delay(READY_TIMEOUT_MS, undefined, { ref: false }).then(
        () => new InfrastructureError(`the egress proxy did not listen within ${READY_TIMEOUT_MS / 1000} s`),
      ),
    ]);
    exited.catch(() => undefined);
    if (started instanceof Error) throw started;
    return {
      id: container.id,
      address: started.address,
      port: started.port,
      async stop() {
        // SIGTERM: the proxy ends its connections, reports each, and exits.
        await container.stop({ t: STOP_GRACE_SECONDS }).catch(() => undefined);
        await Promise.race([outputEnded, delay(2000, undefined, { ref: false })]);
        attached.destroy();
        stdout.end();
        stderr.end();
        await remove();
        return recorder.record();
      },
    };
  } catch (err) {
    stream?.destroy();
    stdout.end();
    stderr.end();
    await remove();
    throw err;
  }
}
