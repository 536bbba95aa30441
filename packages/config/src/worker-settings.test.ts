import { ConfigError, loadConfig } from './index';

// The docker executor's settings (WORKER_*, WORKSPACE_HOST_ROOT, ORPHAN_REAP_INTERVAL_SECONDS).

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('worker container settings', () => {
  it('default to a hardened container', () => {
    const c = loadConfig({});
    expect(c.WORKER_NETWORK).toBe('none');
    expect(c.WORKER_MEMORY).toBe(2 * 1024 ** 3);
    expect(c.WORKER_CPUS).toBe(1);
    expect(c.WORKER_PIDS).toBe(256);
    expect(c.WORKER_UID).toEqual({ uid: 1000, gid: 1000 });
    expect(c.WORKER_ENV_PASSTHROUGH).toEqual([]);
    expect(c.WORKSPACE_HOST_ROOT).toBeUndefined();
    expect(c.WORKER_AGENT).toBe('dummy');
    expect(c.ORPHAN_REAP_INTERVAL_SECONDS).toBe(60);
  });

  it('read sizes, fractions of CPUs, a uid alone and lists', () => {
    const c = loadConfig({
      WORKER_MEMORY: '1.5g',
      WORKER_CPUS: '0.5',
      WORKER_UID: '2000',
      WORKER_ENV_PASSTHROUGH: 'HTTPS_PROXY,NO_PROXY',
      WORKSPACE_HOST_ROOT: ' /srv/workspaces ',
    });
    expect(c.WORKER_MEMORY).toBe(1.5 * 1024 ** 3);
    expect(c.WORKER_CPUS).toBe(0.5);
    expect(c.WORKER_UID).toEqual({ uid: 2000, gid: 2000 });
    expect(c.WORKER_ENV_PASSTHROUGH).toEqual(['HTTPS_PROXY', 'NO_PROXY']);
    expect(c.WORKSPACE_HOST_ROOT).toBe('/srv/workspaces');
    expect(loadConfig({ WORKER_MEMORY: '536870912' }).WORKER_MEMORY).toBe(512 * 1024 ** 2);
  });

  it('name each wrong value and what was expected', () => {
    const message = problems({
      WORKER_MEMORY: 'lots',
      WORKER_CPUS: '0',
      WORKER_UID: 'node',
      WORKER_ENV_PASSTHROUGH: 'OK,not a name',
      WORKSPACE_HOST_ROOT: 'relative/path',
      WORKER_NETWORK: 'no network',
      WORKER_AGENT: 'Codex!',
    });
    expect(message).toContain('WORKER_MEMORY: expected a size like 512m or 2g');
    expect(message).toContain('WORKER_CPUS: expected a positive number of CPUs');
    expect(message).toContain('WORKER_UID: expected uid:gid in numbers');
    expect(message).toContain('WORKER_ENV_PASSTHROUGH: expected names of environment variables');
    expect(message).toContain('WORKSPACE_HOST_ROOT: expected an absolute path on the Docker host');
    expect(message).toContain('WORKER_NETWORK: expected a Docker network name');
    expect(message).toContain('WORKER_AGENT: expected an agent name');
    expect(problems({ WORKER_MEMORY: '1m' })).toContain('at least 6m');
  });
});

describe("the codex agent's settings", () => {
  it('are optional (the worker has defaults) and checked at start-up, naming the variable', () => {
    const c = loadConfig({});
    expect([c.CODEX_BASE_URL, c.CODEX_CONNECT_TIMEOUT_SECONDS, c.CODEX_SANDBOX]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(loadConfig({ CODEX_CONNECT_TIMEOUT_SECONDS: '5' }).CODEX_CONNECT_TIMEOUT_SECONDS).toBe(5);
    const message = problems({
      CODEX_BASE_URL: 'ftp://models.example',
      CODEX_SANDBOX: 'none',
      CODEX_TIMEOUT_SECONDS: 'soon',
      CODEX_CONNECT_TIMEOUT_SECONDS: '0',
    });
    expect(message).toContain('CODEX_BASE_URL: expected an http(s) URL (got "ftp://models.example")');
    expect(message).toContain('CODEX_SANDBOX:');
    expect(message).toContain('CODEX_TIMEOUT_SECONDS:');
    expect(message).toContain('CODEX_CONNECT_TIMEOUT_SECONDS:');
  });
});
