import type { ErrorCode } from '@cwo/contracts';

/** What the engine says of a worker container that exited on its own (not killed by the runner). */
export interface ContainerExit {
  exitCode: number;
  /** State.OOMKilled: Docker sets it; podman 4.3 on a cgroup v1 host never does. */
  oomKilled: boolean;
  /** The memory limit the container ran with, in bytes (0: none). */
  memoryLimit: number;
  /** State.Error, when the engine has one. */
  engineError?: string;
  /** The last line the worker wrote to stderr (why it could not write its result). */
  lastErrorLine?: string;
}

const formatBytes = (n: number) =>
  n >= 1024 ** 3 ? `${+(n / 1024 ** 3).toFixed(2)}g` : `${Math.round(n / 1024 ** 2)}m`;

/**
 * Why the job failed, with its error code, or null when the container exited 0. Out-of-memory is read the same way on
 * every engine: OOMKilled, or exit code 137 (SIGKILL) with a memory limit set, since the runner
 * did not send that kill and the kernel's OOM killer is what sends it at the limit.
 */
export function exitFailure(exit: ContainerExit): { code: ErrorCode; message: string } | null {
  const outOfMemory = exit.oomKilled || (exit.exitCode === 137 && exit.memoryLimit > 0);
  if (outOfMemory) {
    return {
      code: 'out_of_memory',
      message: `worker container ran out of memory: killed at its limit of WORKER_MEMORY=${formatBytes(exit.memoryLimit)} (out-of-memory)`,
    };
  }
  if (exit.exitCode === 0) return null;
  if (exit.exitCode === 137) {
    return {
      code: 'infrastructure',
      message:
        'worker container was killed (SIGKILL, exit code 137) without the runner stopping it: a kill from outside',
    };
  }
  return {
    code: 'agent_error',
    message: `worker container exited with code ${exit.exitCode} without writing a result (see the job log)${[
      exit.engineError,
      exit.lastErrorLine,
    ]
      .filter(Boolean)
      .map((m) => `: ${m}`)
      .join('')}`,
  };
}
