import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';

// CORS as docs/http-api.md states it: allowed origin, blocked origin, preflight.

describe('CORS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      ALLOW_ORIGINS: 'http://localhost:3000, https://app.example.com',
      ALLOW_METHODS: 'GET,POST',
      ALLOW_HEADERS: 'Authorization,Content-Type,X-Requested-With',
      ALLOW_CREDENTIALS: 'False',
    });
  });
  afterAll(() => h.close());

  it('allows a listed origin and exposes the headers clients read', async () => {
    const res = await request(h.app).get('/api/v1/projects').set('Origin', 'https://app.example.com').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['access-control-expose-headers']).toContain('X-Request-Id');
  });

  it('gives a blocked origin no CORS headers (the browser refuses the answer)', async () => {
    const res = await request(h.app).get('/api/v1/projects').set('Origin', 'https://evil.example.com').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a preflight with the configured methods and headers', async () => {
    const res = await request(h.app)
      .options('/api/v1/projects')
      .set('Origin', 'http://localhost:3000')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'Content-Type')
      .expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(res.headers['access-control-allow-methods']).toBe('GET,POST');
    expect(res.headers['access-control-allow-headers']).toBe('Authorization,Content-Type,X-Requested-With');
    const blocked = await request(h.app)
      .options('/api/v1/projects')
      .set('Origin', 'https://evil.example.com')
      .set('Access-Control-Request-Method', 'POST');
    expect(blocked.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends Allow-Credentials only when ALLOW_CREDENTIALS is true', async () => {
    const withCredentials = await startHarness({ ALLOW_ORIGINS: 'https://app.example.com', ALLOW_CREDENTIALS: 'True' });
    try {
      const res = await request(withCredentials.app)
        .get('/healthz')
        .set('Origin', 'https://app.example.com')
        .expect(200);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    } finally {
      await withCredentials.close();
    }
  });
});
