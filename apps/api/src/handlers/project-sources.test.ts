import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { importDir, uploadFile } from '@cwo/code-io';
import { startHarness, type Harness } from '../../test/harness';
import { strayKey } from '../../../../packages/code-io/src/__tests__/ssh-server';

// POST /projects with a source: what the API checks and keeps for the runner (which imports it:
// apps/runner/src/import.test.ts). Git URLs are checked for their form and where they point; an
// upload is streamed to the project's import directory under MAX_IMPORT_BYTES.

const TOKEN = 'ghp_example_TOKEN_123456';

describe('POST /projects with a source', () => {
  let h: Harness;
  let tarGz: Buffer;
  beforeAll(async () => {
    h = await startHarness({ MAX_IMPORT_BYTES: '64k', IMPORT_ALLOW_HTTP: 'true' });
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-src-'));
    fs.writeFileSync(path.join(src, 'main.py'), 'print(1)\n');
    tarGz = execFileSync('tar', ['-czf', '-', '-C', src, 'main.py']);
  });
  afterAll(() => h.close());

  const projectCount = () => h.db.project.count();

  it('keeps an ssh deploy key and known_hosts in 0600 files for the runner, nowhere else; refuses them with https', async () => {
    const key = strayKey();
    const knownHosts = '93.184.215.14 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    const url = 'ssh://git@93.184.215.14/org/repo.git';
    const res = await request(h.app)
      .post('/api/v1/projects')
      .send({
        instruction: 'Add tests to the service',
        source: { git: { url, ssh_key: key, known_hosts: knownHosts } },
      })
      .expect(202);
    expect(res.body.source).toEqual({ kind: 'git', url, ref: null, submodules: false });
    const secret = key.split('\n')[1]!;
    expect(JSON.stringify(res.body)).not.toContain(secret);
    const row = await h.db.project.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(h.logs)).not.toContain(secret);
    const dir = importDir(h.config.workspaceRoot, res.body.id);
    expect(fs.readFileSync(path.join(dir, 'ssh_key'), 'utf8')).toBe(key);
    expect(fs.statSync(path.join(dir, 'ssh_key')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, 'known_hosts'), 'utf8')).toBe(knownHosts);

    const https = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'Add tests', source: { git: { url: 'https://93.184.215.14/org/repo.git', ssh_key: key } } })
      .expect(422);
    expect(JSON.stringify(https.body)).toMatch(/an ssh key or known_hosts is used with ssh URLs only/);
    expect(JSON.stringify(https.body)).not.toContain(secret);
    const notAKey = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'Add tests', source: { git: { url, ssh_key: 'hunter2' } } })
      .expect(422);
    expect(JSON.stringify(notAKey.body)).toMatch(/ssh_key must be a private key/);
  });

  it('keeps submodules: true for the runner; a non-boolean is a 422', async () => {
    const res = await request(h.app)
      .post('/api/v1/projects')
      .send({
        instruction: 'Vendor the libraries',
        source: { git: { url: 'https://93.184.215.14/org/repo.git', submodules: true } },
      })
      .expect(202);
    expect(res.body.source).toMatchObject({ kind: 'git', submodules: true });
    const bad = await request(h.app)
      .post('/api/v1/projects')
      .send({
        instruction: 'Vendor the libraries',
        source: { git: { url: 'https://93.184.215.14/org/repo.git', submodules: 'yes' } },
      })
      .expect(422);
    expect(JSON.stringify(bad.body)).toMatch(/submodules/);
  });

  it('keeps a git source without its credential, and the token only in a file for the runner', async () => {
    const res = await request(h.app)
      .post('/api/v1/projects')
      .send({
        instruction: 'Add tests to the service',
        source: { git: { url: `https://user:${TOKEN}@93.184.215.14/org/repo.git`, ref: 'v1.2', token: TOKEN } },
      })
      .expect(202);
    expect(res.body.source).toEqual({
      kind: 'git',
      url: 'https://93.184.215.14/org/repo.git',
      ref: 'v1.2',
      submodules: false,
    });
    expect(JSON.stringify(res.body)).not.toContain(TOKEN);
    const row = await h.db.project.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(JSON.stringify(row)).not.toContain(TOKEN);
    expect(JSON.stringify(h.logs)).not.toContain(TOKEN);
    const credential = path.join(importDir(h.config.workspaceRoot, res.body.id), 'credential');
    expect(fs.readFileSync(credential, 'utf8')).toBe(TOKEN);
    expect(fs.statSync(credential).mode & 0o777).toBe(0o600);
    const detail = await request(h.app).get(`/api/v1/projects/${res.body.id}`).expect(200);
    expect(detail.body.source).toEqual(res.body.source);
    // Deleting the project removes what waited for the runner.
    await request(h.app).delete(`/api/v1/projects/${res.body.id}`).expect(204);
    expect(fs.existsSync(importDir(h.config.workspaceRoot, res.body.id))).toBe(false);
  });

  it('refuses private, loopback and link-local addresses and other schemes with 422, creating nothing', async () => {
    const before = await projectCount();
    const cases: Array<[string, RegExp]> = [
      ['https://127.0.0.1/repo.git', /127\.0\.0\.1 is a loopback address: not allowed \(IMPORT_ALLOW_PRIVATE_HOSTS\)/],
      ['https://10.1.2.3/repo.git', /a private address/],
      ['git://169.254.169.254/repo', /link-local/],
      ['https://localhost/repo.git', /localhost resolves to 127\.0\.0\.1, a loopback address/],
      ['file:///etc/passwd', /must start with https:\/\//],
      ['ext::sh', /not a valid/],
    ];
    for (const [url, message] of cases) {
      const res = await request(h.app)
        .post('/api/v1/projects')
        .send({ instruction: 'Import this please', source: { git: { url, token: TOKEN } } })
        .expect(422);
      expect(res.body).toMatchObject({ code: 422, error: 'validation_error' });
      expect(res.body.detail[0].loc).toEqual(['body', 'source', 'git', 'url']);
      expect(res.body.detail[0].msg).toMatch(message);
      expect(JSON.stringify(res.body)).not.toContain(TOKEN);
    }
    expect(await projectCount()).toBe(before);
    const withPrivate = await startHarness({ IMPORT_ALLOW_PRIVATE_HOSTS: 'true' });
    try {
      await request(withPrivate.app)
        .post('/api/v1/projects')
        .send({ instruction: 'Import this please', source: { git: { url: 'https://127.0.0.1/repo.git' } } })
        .expect(202);
    } finally {
      await withPrivate.close();
    }
  });

  it('refuses the scp form user@host:path at a non-public address or with an option for a user or host, with 422', async () => {
    const before = await projectCount();
    const cases: Array<[string, RegExp]> = [
      ['git@10.0.0.7:org/repo.git', /^10\.0\.0\.7 is a private address: not allowed \(IMPORT_ALLOW_PRIVATE_HOSTS\)$/],
      ['git@localhost:org/repo.git', /^localhost resolves to 127\.0\.0\.1, a loopback address/],
      ['git@[::1]:org/repo.git', /^::1 is a loopback address/],
      ['git@[::7f00:1]:org/repo.git', /^::7f00:1 is an IPv4-compatible address \(deprecated, ::\/96\)/],
      ['git@169.254.169.254:latest', /link-local/],
      // ssh would take these as options (a ProxyCommand runs a command before any check).
      ['-oProxyCommand=touch${IFS}pwned@example.com:repo.git', /^the user name must not start with "-"$/],
      ['-oProxyCommand=touch${IFS}pwned:repo.git', /^the host must not start with "-"$/],
      ['-oProxyCommand=touch${IFS}/tmp/pwned@example.com:repo.git', /^the URL is not a valid https:\/\//],
      ['git@-oProxyCommand=x:repo.git', /^the host must not start with "-"$/],
      ['git@[-oProxyCommand=x]:repo.git', /^the host must not start with "-"$/],
    ];
    for (const [url, message] of cases) {
      const res = await request(h.app)
        .post('/api/v1/projects')
        .send({ instruction: 'Import this please', source: { git: { url } } })
        .expect(422);
      expect(res.body).toMatchObject({ code: 422, error: 'validation_error' });
      expect(res.body.detail[0].loc).toEqual(['body', 'source', 'git', 'url']);
      expect(res.body.detail[0].msg).toMatch(message);
    }
    expect(await projectCount()).toBe(before);
    const ok = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'Import this please', source: { git: { url: 'git@93.184.215.14:org/repo.git' } } })
      .expect(202);
    expect(ok.body.source).toEqual({
      kind: 'git',
      url: 'git@93.184.215.14:org/repo.git',
      ref: null,
      submodules: false,
    });
  });

  it('takes an archive as multipart/form-data or as the raw body, kept byte for byte', async () => {
    const multi = await request(h.app)
      .post('/api/v1/projects')
      .field('instruction', 'Add a README to it')
      .attach('archive', tarGz, 'code.tar.gz')
      .expect(202);
    expect(multi.body.source).toMatchObject({ kind: 'archive', format: 'tar.gz', bytes: tarGz.length });
    expect(multi.body.instruction).toBe('Add a README to it');
    expect(fs.readFileSync(uploadFile(h.config.workspaceRoot, multi.body.id))).toEqual(tarGz);
    expect(multi.body.job.status).toBe('queued');

    const zip = Buffer.from('504b0506000000000000000000000000000000000000', 'hex'); // an empty zip
    const raw = await request(h.app)
      .post('/api/v1/projects?instruction=Start%20from%20nothing%20zipped')
      .set('Content-Type', 'application/zip')
      .send(zip)
      .expect(202);
    expect(raw.body.source).toMatchObject({ kind: 'archive', format: 'zip', bytes: zip.length });
    expect(raw.body.instruction).toBe('Start from nothing zipped');
  });

  it('answers 413 past MAX_IMPORT_BYTES and 422 for what is no archive or lacks an instruction, keeping nothing', async () => {
    const before = await projectCount();
    const imports = path.join(h.config.workspaceRoot, '.runner', 'imports');
    const pending = () => (fs.existsSync(imports) ? fs.readdirSync(imports).length : 0);
    const kept = pending();
    const big = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100 * 1024, 7)]);
    const tooBig = await request(h.app)
      .post('/api/v1/projects')
      .field('instruction', 'Too big to import')
      .attach('archive', big, 'big.tar.gz')
      .expect(413);
    expect(tooBig.body.detail).toBe('The archive is larger than 65536 bytes (MAX_IMPORT_BYTES)');
    const rawBig = await request(h.app)
      .post('/api/v1/projects?instruction=Too%20big%20raw')
      .set('Content-Type', 'application/gzip')
      .send(big)
      .expect(413);
    expect(rawBig.body.code).toBe(413);

    const notArchive = await request(h.app)
      .post('/api/v1/projects')
      .field('instruction', 'Not an archive')
      .attach('archive', Buffer.from('hello'), 'notes.txt')
      .expect(422);
    expect(notArchive.body.detail).toEqual([
      { loc: ['body', 'archive'], msg: 'The upload is neither a tar.gz nor a zip archive', type: 'value_error' },
    ]);
    const noInstruction = await request(h.app)
      .post('/api/v1/projects')
      .attach('archive', tarGz, 'a.tar.gz')
      .expect(422);
    expect(noInstruction.body.detail[0].loc).toEqual(['body', 'instruction']);
    const noFile = await request(h.app).post('/api/v1/projects').field('instruction', 'Where is the file').expect(422);
    expect(noFile.body.detail[0].loc).toEqual(['body', 'archive']);
    const text = await request(h.app)
      .post('/api/v1/projects')
      .set('Content-Type', 'text/plain')
      .send('instruction=hello')
      .expect(415);
    expect(text.body.code).toBe(415);

    expect(await projectCount()).toBe(before);
    expect(pending()).toBe(kept);
  });

  it('documents the JSON source and both upload forms in the OpenAPI document', async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    const op = doc.paths['/api/v1/projects'].post;
    expect(Object.keys(op.requestBody.content)).toEqual([
      'application/json',
      'multipart/form-data',
      'application/gzip',
      'application/zip',
    ]);
    expect(doc.components.schemas.GitSource.properties).toHaveProperty('token');
    expect(doc.components.schemas.ProjectSource).toBeDefined();
    expect(doc.components.schemas.ErrorCode.enum).toEqual(
      expect.arrayContaining(['import_refused', 'import_too_large', 'import_failed']),
    );
  });
});
