import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigSchema } from '@cwo/config';
import { OPENAI_VARIABLES } from '../src/executors/worker-environment';

// No Docker engine runs on CI machines, and the docker CLI there has no compose plugin, so
// docker-compose.yml is checked by reading it: the services and their wiring, and that every
// variable it gives the apps is one they read.

const ROOT = path.resolve(__dirname, '../../..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { services } = compose;

describe('docker-compose.yml', () => {
  it('has the databases, the api, the runner and the worker image build', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'postgres', 'redis', 'runner', 'worker-image']);
    expect(services.api!.command).toEqual(['node', 'apps/api/dist/main.js']);
    expect(services.runner!.command).toEqual(['node', 'apps/runner/dist/main.js']);
  });

  it('checks the health of postgres, redis and the api, and starts each after what it needs', () => {
    for (const name of ['postgres', 'redis', 'api'])
      expect(services[name]!.healthcheck?.test.length).toBeGreaterThan(0);
    expect(services.api!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    // The api applies the migrations before it answers /healthz; the worker image must exist.
    expect(services.runner!.depends_on).toEqual({
      api: { condition: 'service_healthy' },
      'worker-image': { condition: 'service_completed_successfully' },
    });
  });

  it('keeps data in named volumes, the workspaces shared by the api and the runner', () => {
    const named = Object.keys(compose.volumes).sort();
    expect(named).toEqual(['pgdata', 'redisdata', 'workspaces']);
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('/') && !source.startsWith('$') && !source.startsWith('.')) {
          expect([name, named.includes(source)]).toEqual([name, true]);
        }
      }
    }
    const workspaceRoot = services.api!.environment!.WORKSPACE_ROOT;
    expect(services.api!.volumes).toContain(`workspaces:${workspaceRoot}`);
    expect(services.runner!.volumes).toContain(`workspaces:${workspaceRoot}`);
    expect(services.runner!.environment!.WORKSPACE_ROOT).toBe(workspaceRoot);
  });

  it('runs jobs in worker containers through the host Docker socket, with the workspace path of the Docker host', () => {
    const runner = services.runner!;
    expect(runner.environment!.USE_DUMMY_WORKER).toBe('false');
    expect(runner.volumes!.some((v) => v.endsWith(':/var/run/docker.sock'))).toBe(true);
    // The volume's fixed name is what makes its path on the Docker host predictable.
    expect((compose.volumes.workspaces as { name: string }).name).toBe('cwo-workspaces');
    expect(runner.environment!.WORKSPACE_HOST_ROOT).toBe(
      '${WORKSPACE_HOST_ROOT:-/var/lib/docker/volumes/cwo-workspaces/_data}',
    );
    const worker = services['worker-image']!;
    expect(worker.image).toBe(runner.environment!.CODEX_WORKER_IMAGE);
    expect(worker.build).toMatchObject({ dockerfile: 'docker/app.Dockerfile', target: 'worker' });
  });

  it('gives the apps only variables that the configuration reads', () => {
    const known = new Set([...Object.keys(ConfigSchema.shape), ...OPENAI_VARIABLES]);
    for (const name of ['api', 'runner']) {
      const unknown = Object.keys(services[name]!.environment ?? {}).filter((v) => !known.has(v));
      expect([name, unknown]).toEqual([name, []]);
    }
  });

  it('builds from Dockerfile stages that exist, the worker stage like worker-image/Dockerfile', () => {
    const dockerfile = read('docker/app.Dockerfile');
    const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    for (const service of Object.values(services)) {
      if (service.build) expect(stages).toContain(service.build.target);
    }
    // The lines that make the worker what it is, the same in both Dockerfiles.
    const essentials = (text: string) =>
      text
        .replace(/\\\n\s*/g, ' ')
        .split('\n')
        .filter((l) => /^(ENV|USER|WORKDIR|ENTRYPOINT|COPY) /.test(l))
        .map((l) => l.replace(/^COPY (--from=\S+ )?\/?(worker-context\/)?/, 'COPY '));
    const workerStage = dockerfile.slice(dockerfile.indexOf('AS worker'));
    expect(essentials(workerStage)).toEqual(essentials(read('worker-image/Dockerfile')));
    expect(essentials(workerStage)).toEqual(
      expect.arrayContaining(['USER 1000:1000', 'ENTRYPOINT ["node", "/opt/cwo-worker/dist/main.js"]']),
    );
  });
});
