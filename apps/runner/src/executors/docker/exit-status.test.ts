import { exitFailure } from './exit-status';

describe('a worker container’s exit, the same on every engine', () => {
  const limit = 128 * 1024 ** 2;
  const oom = {
    code: 'out_of_memory',
    message: 'worker container ran out of memory: killed at its limit of WORKER_MEMORY=128m (out-of-memory)',
  };

  it('is out-of-memory when the engine says OOMKilled (Docker)', () => {
    expect(exitFailure({ exitCode: 137, oomKilled: true, memoryLimit: limit })).toEqual(oom);
    // Docker also sets it when only a child was killed and the agent exited on its own.
    expect(exitFailure({ exitCode: 1, oomKilled: true, memoryLimit: limit })).toEqual(oom);
  });

  it('is out-of-memory on exit 137 with a memory limit set, where the engine never says so (podman)', () => {
    expect(exitFailure({ exitCode: 137, oomKilled: false, memoryLimit: limit })).toEqual(oom);
  });

  it('is a kill from outside on exit 137 without a memory limit', () => {
    expect(exitFailure({ exitCode: 137, oomKilled: false, memoryLimit: 0 })).toEqual({
      code: 'infrastructure',
      message: expect.stringMatching(/SIGKILL.*from outside/),
    });
  });

  it('names any other exit code, with the engine’s error, and nothing for 0', () => {
    expect(exitFailure({ exitCode: 0, oomKilled: false, memoryLimit: limit })).toBeNull();
    expect(exitFailure({ exitCode: 3, oomKilled: false, memoryLimit: limit, engineError: 'boom' })).toEqual({
      code: 'agent_error',
      message: 'worker container exited with code 3 without writing a result (see the job log): boom',
    });
  });

  it('quotes the last line the worker wrote to stderr', () => {
    expect(
      exitFailure({ exitCode: 1, oomKilled: false, memoryLimit: limit, lastErrorLine: 'worker: cannot write: ENOSPC' }),
    ).toEqual({
      code: 'agent_error',
      message:
        'worker container exited with code 1 without writing a result (see the job log): worker: cannot write: ENOSPC',
    });
  });
});
