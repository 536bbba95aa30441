import { ConfigError, loadConfig } from './index';

describe('the egress settings', () => {
  const codexInContainers = { USE_DUMMY_WORKER: 'false', WORKER_AGENT: 'codex' };

  it('default to the allowlist for the codex agent in a container, of the model endpoint only', () => {
    expect(loadConfig(codexInContainers)).toMatchObject({
      workerEgress: 'allowlist',
      workerEgressAllow: ['api.openai.com:443'],
      WORKER_EGRESS_NETWORK: 'bridge',
      WORKER_EGRESS_BRIDGE_PREFIX: 'cwoeg',
    });
    expect(loadConfig({ ...codexInContainers, CODEX_BASE_URL: 'http://10.1.2.3:8080/v1' }).workerEgressAllow).toEqual([
      '10.1.2.3:8080',
    ]);
  });

  it('default to none where the agent needs no network, runs on the host, or has a network of its own', () => {
    expect(loadConfig({}).workerEgress).toBe('none');
    expect(loadConfig({ USE_DUMMY_WORKER: 'false' }).workerEgress).toBe('none');
    expect(loadConfig({ ...codexInContainers, WORKER_EXECUTOR: 'host' }).workerEgress).toBe('none');
    expect(loadConfig({ ...codexInContainers, WORKER_NETWORK: 'bridge' }).workerEgress).toBe('none');
    expect(loadConfig({ ...codexInContainers, WORKER_EGRESS: 'none' }).workerEgress).toBe('none');
  });

  it('take the allowlist as given', () => {
    const config = loadConfig({ ...codexInContainers, WORKER_EGRESS_ALLOW: 'api.openai.com:443, *.npmjs.org:443' });
    expect(config.workerEgressAllow).toEqual(['api.openai.com:443', '*.npmjs.org:443']);
  });

  it('refuse what cannot work, naming the variable', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ WORKER_EGRESS_ALLOW: 'api.openai.com' })).toEqual([
      'WORKER_EGRESS_ALLOW: expected host:port entries, comma-separated: "api.openai.com" is not host:port (e.g. api.openai.com:443) (got "api.openai.com")',
    ]);
    expect(problems({ WORKER_EGRESS: 'open' })[0]).toMatch(/^WORKER_EGRESS: /);
    expect(problems({ WORKER_EGRESS: 'allowlist', WORKER_NETWORK: 'host' })).toEqual([
      'WORKER_EGRESS: allowlist puts the worker on a sealed network of its own: leave WORKER_NETWORK unset (got host) (got "allowlist")',
    ]);
    expect(problems({ WORKER_EGRESS_BRIDGE_PREFIX: 'much-too-long' })[0]).toMatch(
      /^WORKER_EGRESS_BRIDGE_PREFIX: expected 2-7/,
    );
  });
});
