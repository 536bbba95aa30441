import { ConfigError, loadConfig } from './index';

describe('project history and executor settings', () => {
  it('default to the orchestrator as the commits’ author, and containers for the worker', () => {
    const config = loadConfig({});
    expect(config.GIT_AUTHOR_NAME).toBe('Codex Workspace Orchestrator');
    expect(config.GIT_AUTHOR_EMAIL).toBe('orchestrator@localhost');
    expect(config.WORKER_EXECUTOR).toBe('docker');
  });

  it('take an author of your own, and the host executor', () => {
    const config = loadConfig({
      GIT_AUTHOR_NAME: ' Build Bot ',
      GIT_AUTHOR_EMAIL: 'bot@example.com',
      WORKER_EXECUTOR: 'host',
    });
    expect([config.GIT_AUTHOR_NAME, config.GIT_AUTHOR_EMAIL, config.WORKER_EXECUTOR]).toEqual([
      'Build Bot',
      'bot@example.com',
      'host',
    ]);
  });

  it('refuse an email git would mangle, an empty name and an unknown executor', () => {
    const problems = () => {
      try {
        loadConfig({ GIT_AUTHOR_NAME: ' ', GIT_AUTHOR_EMAIL: 'Bot <bot@example.com>', WORKER_EXECUTOR: 'kubernetes' });
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(problems().map((p) => p.split(':')[0])).toEqual(['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'WORKER_EXECUTOR']);
  });
});

describe('HISTORY_IGNORE', () => {
  it('leaves dependency and cache folders out by default; takes a list of its own, or none', () => {
    expect(loadConfig({}).HISTORY_IGNORE).toEqual(expect.arrayContaining(['node_modules/', '.venv/', '__pycache__/']));
    expect(loadConfig({ HISTORY_IGNORE: 'vendor/, *.tmp' }).HISTORY_IGNORE).toEqual(['vendor/', '*.tmp']);
    expect(loadConfig({ HISTORY_IGNORE: '' }).HISTORY_IGNORE).toEqual([]);
  });

  it('refuses a pattern with a line break (it would be two)', () => {
    expect(() => loadConfig({ HISTORY_IGNORE: '["a\\nb"]' })).toThrow(/HISTORY_IGNORE/);
  });
});
