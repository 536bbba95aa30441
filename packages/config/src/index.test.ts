import path from 'node:path';
import { ConfigError, loadConfig } from './index';

describe('loadConfig', () => {
  it('gives the documented defaults on an empty environment', () => {
    const c = loadConfig({}, '/srv/app');
    expect(c.PORT).toBe(8000);
    expect(c.API_V1_STR).toBe('/api/v1');
    expect(c.USE_DUMMY_WORKER).toBe(true);
    expect(c.ALLOW_ORIGINS).toEqual(['http://localhost:3000', 'http://127.0.0.1:3000']);
    expect(c.ALLOW_METHODS).toEqual(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
    expect(c.ALLOW_HEADERS).toEqual(['Authorization', 'Content-Type']);
    expect(c.ALLOW_CREDENTIALS).toBe(false);
    expect(c.workspaceRoot).toBe(path.resolve('/srv/app', 'workspaces'));
  });

  it('reads Python-style booleans (False/True) and comma or JSON lists, trimmed', () => {
    const c = loadConfig({
      USE_DUMMY_WORKER: 'False',
      ALLOW_CREDENTIALS: 'True',
      ALLOW_ORIGINS: ' https://a.example.com , https://b.example.com ',
      ALLOW_METHODS: '["GET", "POST"]',
      ALLOW_HEADERS: '',
    });
    expect(c.USE_DUMMY_WORKER).toBe(false);
    expect(c.ALLOW_CREDENTIALS).toBe(true);
    expect(c.ALLOW_ORIGINS).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(c.ALLOW_METHODS).toEqual(['GET', 'POST']);
    expect(c.ALLOW_HEADERS).toEqual([]);
  });

  it('stops with a message naming every wrong variable and its value', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', USE_DUMMY_WORKER: 'maybe', DATABASE_URL: 'mysql://x/y' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT: .*\(got "eighty"\)/);
    expect(message).toMatch(/USE_DUMMY_WORKER: expected true or false, got "maybe"/);
    expect(message).toMatch(/DATABASE_URL: expected a URL starting with postgresql:\/\//);
    expect((error as ConfigError).problems).toHaveLength(3);
  });

  it('refuses an API prefix that is not a path', () => {
    expect(() => loadConfig({ API_V1_STR: 'api/v1/' })).toThrow(/API_V1_STR/);
  });
});

describe('authentication and limits', () => {
  it('defaults: no keys (local development), 30 creations a minute, 20 active jobs, no admin user', () => {
    const c = loadConfig({});
    expect(c.AUTH_MODE).toBe('none');
    expect(c.RATE_LIMIT_CREATE_PER_MINUTE).toBe(30);
    expect(c.RATE_LIMIT_WINDOW_SECONDS).toBe(60);
    expect(c.MAX_ACTIVE_JOBS_PER_USER).toBe(20);
    expect(c.ADMIN_USER).toBeUndefined();
    expect(c.ADMIN_PASSWORD).toBeUndefined();
  });

  it('takes ADMIN_USER and ADMIN_PASSWORD together or not at all; empty counts as unset', () => {
    expect(loadConfig({ ADMIN_USER: '', ADMIN_PASSWORD: '' }).ADMIN_USER).toBeUndefined();
    expect(() => loadConfig({ ADMIN_USER: 'operator' })).toThrow(
      /ADMIN_PASSWORD: set ADMIN_USER and ADMIN_PASSWORD together/,
    );
    expect(() => loadConfig({ ADMIN_PASSWORD: 'long enough password' })).toThrow(
      /ADMIN_USER: set ADMIN_USER and ADMIN_PASSWORD together/,
    );
    expect(loadConfig({ ADMIN_USER: 'operator', ADMIN_PASSWORD: 'long enough password' }).ADMIN_USER).toBe('operator');
  });

  it('refuses a short admin password without echoing it, and an unknown AUTH_MODE', () => {
    let error: unknown;
    try {
      loadConfig({ ADMIN_USER: 'operator', ADMIN_PASSWORD: 'hunter2', AUTH_MODE: 'jwt' });
    } catch (e) {
      error = e;
    }
    const message = (error as Error).message;
    expect(message).toMatch(/ADMIN_PASSWORD: expected at least 12 characters/);
    expect(message).toMatch(/AUTH_MODE: .*\(got "jwt"\)/);
    expect(message).not.toContain('hunter2');
  });
});

describe('preview settings', () => {
  it('default to the project id under preview.localhost on the API port, links good for an hour', () => {
    expect(loadConfig({ PORT: '8123' }).previewBaseUrl).toBe('http://{projectId}.preview.localhost:8123');
    expect(loadConfig({}).PREVIEW_LINK_SECONDS).toBe(3600);
    expect(loadConfig({ PREVIEW_BASE_URL: 'https://{projectId}.preview.example.com/' }).previewBaseUrl).toBe(
      'https://{projectId}.preview.example.com',
    );
  });

  it('refuse a base URL without the project id in its host, or with a path, and a short secret', () => {
    for (const bad of [
      'https://preview.example.com/{projectId}',
      'ftp://{projectId}.x.com',
      'https://{projectId}.x.com/app',
    ]) {
      expect(() => loadConfig({ PREVIEW_BASE_URL: bad })).toThrow(/PREVIEW_BASE_URL: expected an http\(s\) origin/);
    }
    let message = '';
    try {
      loadConfig({ PREVIEW_SECRET: 'short-secret' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/PREVIEW_SECRET: expected at least 32 characters/);
    expect(message).not.toContain('short-secret');
  });
});

describe('session and proxy settings', () => {
  it('default to 12-hour sessions, 10 sign-in attempts per window, and no trusted proxy', () => {
    const c = loadConfig({});
    expect(c.SESSION_TTL_SECONDS).toBe(43_200);
    expect(c.SIGN_IN_ATTEMPTS_PER_MINUTE).toBe(10);
    expect(c.TRUST_PROXY).toBe(false);
  });

  it('take TRUST_PROXY as Express does: true, a hop count, or addresses and subnets', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8']);
    expect(() => loadConfig({ TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY: expected true, false, a number/);
    expect(() => loadConfig({ SESSION_TTL_SECONDS: '0' })).toThrow(/SESSION_TTL_SECONDS/);
  });
});
