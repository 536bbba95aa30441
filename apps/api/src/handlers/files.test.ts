import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { jsonOf, listen, rawRequest } from '../../test/http';

const INVALID_PATH = { error: 'bad_request', message: 'Bad request', code: 400, detail: 'Invalid path' };

describe('files API (the file access policy of docs/http-api.md)', () => {
  let h: Harness;
  let port: number;
  let closeServer: () => Promise<void>;
  let pid: string;
  let ws: string;
  let outside: string;

  beforeAll(async () => {
    h = await startHarness({ MAX_TEXT_FILE_BYTES: '65536' });
    ({ port, close: closeServer } = await listen(h.app));
    const res = await request(h.app).post('/api/v1/projects').send({ instruction: 'files under test' }).expect(202);
    pid = res.body.id;
    ws = res.body.workspace_path;
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-outside-'));
    fs.writeFileSync(path.join(outside, 'secrets.txt'), 'TOP SECRET');
    // The workspace's parent is where "../secrets.txt" would land.
    fs.writeFileSync(path.join(path.dirname(ws), 'secrets.txt'), 'PARENT SECRET');

    fs.mkdirSync(path.join(ws, 'tests'));
    fs.mkdirSync(path.join(ws, '.codex'));
    fs.writeFileSync(path.join(ws, 'index.html'), '<h1>hello</h1>\n');
    fs.writeFileSync(path.join(ws, 'app.py'), 'print("fib")\n');
    fs.writeFileSync(path.join(ws, 'tests', 'test_cli.py'), 'def test(): pass\n');
    fs.writeFileSync(path.join(ws, '.codex', 'result.json'), '{"status":"success"}');
    fs.writeFileSync(path.join(ws, 'unicode ✓.txt'), 'ünïcödé\n');
    fs.writeFileSync(
      path.join(ws, 'logo.png'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
    );
    fs.symlinkSync(path.join(outside, 'secrets.txt'), path.join(ws, 'escape-file'));
    fs.symlinkSync(outside, path.join(ws, 'escape-dir'));
    fs.symlinkSync('app.py', path.join(ws, 'app-link.py'));
    fs.symlinkSync(path.join(ws, 'tests'), path.join(ws, 'tests-link'));
  });
  afterAll(async () => {
    await closeServer();
    await h.close();
    fs.rmSync(outside, { recursive: true, force: true });
  });

  const get = (p: string, headers?: Record<string, string>) => rawRequest(port, p, { headers });

  describe('listing', () => {
    it('lists every file with its size, sorted, .codex included; skips symlinked dirs and escaping links', async () => {
      const res = await request(h.app).get(`/api/v1/projects/${pid}/files`).expect(200);
      expect(res.body.files).toEqual([
        { path: '.codex/result.json', size: 20 },
        { path: 'app-link.py', size: 13 },
        { path: 'app.py', size: 13 },
        { path: 'index.html', size: 15 },
        { path: 'logo.png', size: 12 },
        { path: 'tests/test_cli.py', size: 17 },
        { path: 'unicode ✓.txt', size: Buffer.byteLength('ünïcödé\n') },
      ]);
      const short = await request(h.app).get(`/api/v1/${pid}/files`).expect(200);
      expect(short.body).toEqual(res.body);
    });

    it('404 for an unknown project', async () => {
      await request(h.app).get('/api/v1/projects/00000000-0000-4000-8000-000000000000/files').expect(404);
    });
  });

  describe('reading', () => {
    it('returns {path, contents} for text files, hidden .codex ones included, on both paths', async () => {
      const res = await get(`/api/v1/${pid}/files/index.html`);
      expect(res.status).toBe(200);
      expect(jsonOf(res)).toEqual({ path: 'index.html', contents: '<h1>hello</h1>\n' });
      const nested = await get(`/api/v1/projects/${pid}/files/tests/test_cli.py`);
      expect(jsonOf(nested)).toEqual({ path: 'tests/test_cli.py', contents: 'def test(): pass\n' });
      const codex = await get(`/api/v1/projects/${pid}/files/.codex/result.json`);
      expect(jsonOf(codex)).toEqual({ path: '.codex/result.json', contents: '{"status":"success"}' });
      const encodedName = await get(`/api/v1/projects/${pid}/files/${encodeURIComponent('unicode ✓.txt')}`);
      expect(jsonOf(encodedName)).toEqual({ path: 'unicode ✓.txt', contents: 'ünïcödé\n' });
      const viaLink = await get(`/api/v1/projects/${pid}/files/tests-link/test_cli.py`);
      expect(viaLink.status).toBe(200);
    });

    it.each([
      ['traversal', '../secrets.txt'],
      ['deep traversal', '../../../../etc/passwd'],
      ['traversal after a directory', 'tests/../../secrets.txt'],
      ['URL-encoded traversal', '%2e%2e/secrets.txt'],
      ['URL-encoded traversal, upper case', '%2E%2E%2Fsecrets.txt'],
      ['double-encoded traversal', '%252e%252e/secrets.txt'],
      ['double-encoded slash', '..%252fsecrets.txt'],
      ['URL-encoded absolute', '%2Fetc%2Fpasswd'],
      ['absolute after an empty segment', '/etc/passwd'],
      ['Windows drive', 'C:%5CWindows%5Cwin.ini'],
      ['UNC', '%5C%5Cserver%5Cshare'],
      ['backslash traversal', '..%5Csecrets.txt'],
      ['NUL byte', 'index.html%00.png'],
      ['malformed encoding', '%E0%A4%A'],
      ['symlink to a file outside', 'escape-file'],
      ['symlink to a directory outside', 'escape-dir/secrets.txt'],
      ['missing file under an escaping directory link', 'escape-dir/nope.txt'],
    ])('400 Invalid path for %s', async (_label, p) => {
      const res = await get(`/api/v1/projects/${pid}/files/${p}`);
      expect(res.status).toBe(400);
      expect(jsonOf(res)).toMatchObject(INVALID_PATH);
      expect(res.body.toString()).not.toContain('SECRET');
      const short = await get(`/api/v1/${pid}/files/${p}`);
      expect(short.status).toBe(400);
    });

    it('404 "File not found" for a safe path with no file, and for a directory', async () => {
      for (const p of ['does_not_exist.txt', 'tests/nope.py', 'tests']) {
        const res = await get(`/api/v1/projects/${pid}/files/${p}`);
        expect(res.status).toBe(404);
        expect(jsonOf(res)).toMatchObject({ error: 'not_found', code: 404, detail: 'File not found' });
      }
    });

    it('streams binary files raw, and text files raw on request (?raw=1 or Accept)', async () => {
      const png = await get(`/api/v1/projects/${pid}/files/logo.png`);
      expect(png.status).toBe(200);
      expect(png.headers['content-type']).toBe('application/octet-stream');
      expect(png.body).toEqual(fs.readFileSync(path.join(ws, 'logo.png')));

      const raw = await get(`/api/v1/projects/${pid}/files/app.py?raw=1`);
      expect(raw.headers['content-type']).toBe('application/octet-stream');
      expect(raw.body.toString()).toBe('print("fib")\n');

      const accept = await get(`/api/v1/projects/${pid}/files/app.py`, { Accept: 'application/octet-stream' });
      expect(accept.headers['content-type']).toBe('application/octet-stream');
      expect(accept.body.toString()).toBe('print("fib")\n');

      const either = await get(`/api/v1/projects/${pid}/files/app.py`, { Accept: '*/*' });
      expect(jsonOf(either)).toEqual({ path: 'app.py', contents: 'print("fib")\n' });
    });

    it('sends a file larger than MAX_TEXT_FILE_BYTES raw, byte for byte', async () => {
      const big = crypto.randomBytes(3 * 1024 * 1024 + 17);
      fs.writeFileSync(path.join(ws, 'big.bin'), big);
      const res = await get(`/api/v1/projects/${pid}/files/big.bin`);
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(big.length));
      expect(crypto.createHash('sha256').update(res.body).digest('hex')).toBe(
        crypto.createHash('sha256').update(big).digest('hex'),
      );

      const bigText = 'a line of text\n'.repeat(10_000); // 150 kB > the 64 kB cap of this app
      fs.writeFileSync(path.join(ws, 'big.txt'), bigText);
      const text = await get(`/api/v1/projects/${pid}/files/big.txt`);
      expect(text.headers['content-type']).toBe('application/octet-stream');
      expect(text.body.toString()).toBe(bigText);
    });

    it('a client that leaves mid-download does not leave the file open, and the API keeps serving', async () => {
      const huge = path.join(ws, 'huge.bin');
      fs.writeFileSync(huge, Buffer.alloc(64 * 1024 * 1024, 1));
      const openOnHuge = () =>
        fs.readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`) === fs.realpathSync(huge);
          } catch {
            return false;
          }
        }).length;
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ port, path: `/api/v1/projects/${pid}/files/huge.bin?raw=1` }, (res) => {
          res.once('data', () => {
            expect(openOnHuge()).toBe(1);
            req.destroy(); // the client goes away after the first chunk
            resolve();
          });
        });
        req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
      });
      for (let i = 0; i < 100 && openOnHuge() > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(openOnHuge()).toBe(0);
      expect((await get(`/api/v1/projects/${pid}/files/app.py?raw=1`)).body.toString()).toBe('print("fib")\n');
    });

    it('404 for files of an unknown project', async () => {
      const res = await get('/api/v1/projects/00000000-0000-4000-8000-000000000000/files/app.py');
      expect(res.status).toBe(404);
      expect(jsonOf(res)).toMatchObject({ detail: 'Project not found' });
    });
  });
});
