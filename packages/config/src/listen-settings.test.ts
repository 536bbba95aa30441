import { apiListenProblem, isLoopbackHost, loadConfig } from './index';

// Where the API listens (HOST), and the one combination it refuses.

describe("the API's listening address", () => {
  it('is 127.0.0.1 with AUTH_MODE=none and 0.0.0.0 with api_key, unless HOST says otherwise', () => {
    expect(loadConfig({}).apiHost).toBe('127.0.0.1');
    expect(loadConfig({ AUTH_MODE: 'api_key' }).apiHost).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '::1' }).apiHost).toBe('::1');
    expect(loadConfig({ AUTH_MODE: 'api_key', HOST: '10.0.0.5' }).apiHost).toBe('10.0.0.5');
  });

  it('refuses AUTH_MODE=none on an address other machines reach, saying why and what to do', () => {
    const problem = apiListenProblem(loadConfig({ HOST: '0.0.0.0' }));
    expect(problem).toMatch(/^HOST=0\.0\.0\.0 is not a loopback address, and AUTH_MODE=none asks for no key/);
    expect(problem).toContain('Unset HOST');
    expect(problem).toContain('AUTH_MODE=api_key');
    expect(apiListenProblem(loadConfig({ HOST: '192.168.1.20' }))).not.toBeNull();
    for (const ok of [{}, { HOST: 'localhost' }, { HOST: '127.0.0.2' }, { AUTH_MODE: 'api_key', HOST: '0.0.0.0' }]) {
      expect(apiListenProblem(loadConfig(ok))).toBeNull();
    }
  });

  it('knows the loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '127.0.0.1.nip.io']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });

  it('BULL_BOARD_ENABLED may be left unset (its default depends on AUTH_MODE and HOST)', () => {
    expect(loadConfig({}).BULL_BOARD_ENABLED).toBeUndefined();
    expect(loadConfig({ BULL_BOARD_ENABLED: 'True' }).BULL_BOARD_ENABLED).toBe(true);
    expect(() => loadConfig({ BULL_BOARD_ENABLED: 'maybe' })).toThrow(/BULL_BOARD_ENABLED: expected true or false/);
  });
});
