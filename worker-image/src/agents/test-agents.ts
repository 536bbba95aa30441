import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerResult } from '@cwo/contracts';
import type { Agent } from './types';

// Diagnostic agents for the container tests (apps/runner's docker executor suite). They exist only
// when WORKER_TEST_AGENTS=true (see findAgent) and show what the container allows:
//   sleep     runs until the container is killed (time limit, cancel)
//   allocate  allocates memory until the container's memory limit kills it
//   probe     tries to write outside /workspace and to reach the network, and reports what happened

const success = (summary: string, extra: Partial<WorkerResult> = {}): WorkerResult => ({
  status: 'success',
  summary,
  created_files: [],
  modified_files: [],
  deleted_files: [],
  errors: [],
  logs: [],
  ...extra,
});

const sleepAgent: Agent = async ({ log, signal }) => {
  log('sleep agent: sleeping until stopped');
  await sleep(24 * 3600 * 1000, undefined, { signal }).catch(() => undefined);
  return success('slept');
};

const allocateAgent: Agent = async ({ log }) => {
  const chunks: Buffer[] = [];
  for (;;) {
    // Filled, so the pages are really resident and count against the memory limit.
    chunks.push(Buffer.alloc(16 * 1024 * 1024, 1));
    if (chunks.length % 4 === 0) log(`allocate agent: holding ${chunks.length * 16} MiB`);
    await sleep(5);
  }
};

async function tryWrite(file: string): Promise<string> {
  try {
    await fs.writeFile(file, 'probe\n');
    return `write ${file}: ok`;
  } catch (err) {
    return `write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}

function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (outcome: string) => {
      socket.destroy();
      resolve(`connect ${host}:${port}: ${outcome}`);
    };
    socket.setTimeout(3000, () => done('timeout'));
    socket.once('connect', () => done('ok'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

const probeAgent: Agent = async ({ workspace, log }) => {
  const findings = [
    `uid ${process.getuid?.()} gid ${process.getgid?.()}`,
    `interfaces ${Object.keys(os.networkInterfaces()).sort().join(',')}`,
    // Names only: the values may be secrets.
    `env ${Object.keys(process.env).sort().join(',')}`,
    await tryWrite(path.join(workspace, 'probe.txt')),
    await tryWrite('/tmp/probe.txt'),
    await tryWrite('/etc/probe.txt'),
    await tryWrite('/probe.txt'),
    await tryWrite(path.join(__dirname, 'probe.txt')),
    // A public address (TEST-NET-3 would be unroutable anywhere; this one is not).
    await tryConnect('1.1.1.1', 443),
  ];
  for (const line of findings) log(`probe agent: ${line}`);
  return success('probed the container', { created_files: ['probe.txt'], logs: findings });
};

export const TEST_AGENTS: Readonly<Record<string, Agent>> = {
  sleep: sleepAgent,
  allocate: allocateAgent,
  probe: probeAgent,
};
