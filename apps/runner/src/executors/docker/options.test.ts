import { loadConfig } from '@cwo/config';
import type { WorkerRequest } from '@cwo/contracts';
import { workerEnvironment } from '../worker-environment';
import { containerOptions, hostWorkspacePath, LABELS } from './options';

const request: WorkerRequest = {
  project_id: '5b0c2f0e-7d7b-4a53-8d8a-0a4a9c1e0001',
  job_id: '5b0c2f0e-7d7b-4a53-8d8a-0a4a9c1e0002',
  job_type: 'initial_project',
  instruction: 'x',
  history: [],
  checks: [],
  fix_attempts: 0,
};

describe('worker container options', () => {
  it('are hardened by default', () => {
    const config = loadConfig({ WORKSPACE_ROOT: '/srv/ws', QUEUE_PREFIX: 'prod' });
    const o = containerOptions({ config, request, workspace: '/srv/ws/p1', runnerId: 'r1', name: 'n', env: [] });
    expect(o.User).toBe('1000:1000');
    expect(o.HostConfig).toMatchObject({
      Binds: ['/srv/ws/p1:/workspace:rw'],
      NetworkMode: 'none',
      Memory: 2 * 1024 ** 3,
      MemorySwap: 2 * 1024 ** 3,
      NanoCpus: 1e9,
      PidsLimit: 256,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      AutoRemove: false,
    });
    expect(Object.keys(o.HostConfig!.Tmpfs!)).toEqual(['/tmp']);
    expect(o.Labels).toEqual({
      [LABELS.managed]: 'true',
      [LABELS.queuePrefix]: 'prod',
      [LABELS.jobId]: request.job_id,
      [LABELS.projectId]: request.project_id,
      [LABELS.runnerId]: 'r1',
    });
  });

  it('follow the WORKER_* settings', () => {
    const config = loadConfig({
      WORKER_NETWORK: 'bridge',
      WORKER_MEMORY: '512m',
      WORKER_CPUS: '0.5',
      WORKER_PIDS: '64',
      WORKER_UID: '1234:2345',
    });
    const o = containerOptions({ config, request, workspace: config.workspaceRoot, runnerId: 'r', name: 'n', env: [] });
    expect(o.User).toBe('1234:2345');
    expect(o.HostConfig).toMatchObject({
      NetworkMode: 'bridge',
      Memory: 512 * 1024 ** 2,
      NanoCpus: 5e8,
      PidsLimit: 64,
    });
  });

  it('mount the workspace from WORKSPACE_HOST_ROOT when the runner sees it elsewhere', () => {
    const config = loadConfig({
      WORKSPACE_ROOT: '/data/workspaces',
      WORKSPACE_HOST_ROOT: '/var/lib/docker/volumes/ws/_data',
    });
    expect(hostWorkspacePath(config, '/data/workspaces/p1')).toBe('/var/lib/docker/volumes/ws/_data/p1');
    expect(() => hostWorkspacePath(config, '/elsewhere/p1')).toThrow(/not under WORKSPACE_ROOT/);
    expect(hostWorkspacePath(loadConfig({ WORKSPACE_ROOT: '/data/workspaces' }), '/data/workspaces/p1')).toBe(
      '/data/workspaces/p1',
    );
  });

  it('pass only the allowlisted variables that are set, and name them without values', () => {
    const config = loadConfig({ WORKER_ENV_PASSTHROUGH: 'HTTPS_PROXY, CODEX_MODEL', WORKER_AGENT: 'codex' });
    const env = {
      OPENAI_API_KEY: 'sk-1',
      HTTPS_PROXY: 'http://proxy:3128',
      DATABASE_URL: 'postgresql://x',
      HOME: '/root',
    };
    const { entries, names } = workerEnvironment(config, env);
    expect(entries.sort()).toEqual(['HTTPS_PROXY=http://proxy:3128', 'OPENAI_API_KEY=sk-1', 'WORKER_AGENT=codex']);
    expect(names.sort()).toEqual(['HTTPS_PROXY', 'OPENAI_API_KEY', 'WORKER_AGENT']);
  });

  it("pass the codex agent's settings that are set without a second list, CODEX_HOME not", () => {
    const config = loadConfig({ WORKER_AGENT: 'codex' });
    const env = {
      CODEX_BASE_URL: 'http://gateway.internal:8080/v1',
      CODEX_MODEL: 'gpt-5.5',
      CODEX_SANDBOX: 'danger-full-access',
      CODEX_TIMEOUT_SECONDS: '600',
      CODEX_CONNECT_TIMEOUT_SECONDS: '10',
      CODEX_MAX_RETRIES: '',
      CODEX_HOME: '/var/lib/runner/codex',
    };
    expect(workerEnvironment(config, env).entries.sort()).toEqual([
      'CODEX_BASE_URL=http://gateway.internal:8080/v1',
      'CODEX_CONNECT_TIMEOUT_SECONDS=10',
      'CODEX_MODEL=gpt-5.5',
      'CODEX_SANDBOX=danger-full-access',
      'CODEX_TIMEOUT_SECONDS=600',
      'WORKER_AGENT=codex',
    ]);
  });
});
