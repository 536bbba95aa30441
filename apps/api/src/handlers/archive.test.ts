import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import yauzl from 'yauzl';
import { startHarness, type Harness } from '../../test/harness';
import { commitAsRunner } from '../../test/history';
import { withOwnersProject } from '../../test/tenants';

// GET /projects/{id}/archive and /history.bundle, read back with independent tools: GNU tar for
// tar.gz, yauzl for zip, git for the bundle. The runner's commits are played by the history module.

type Tree = Record<string, string>; // path -> contents, or '-> target' for a symlink

/** A directory's files and links (not followed), as a Tree. */
function readTree(dir: string, rel = ''): Tree {
  const tree: Tree = {};
  for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    const abs = path.join(dir, r);
    if (d.isSymbolicLink()) tree[r] = `-> ${fs.readlinkSync(abs)}`;
    else if (d.isDirectory()) Object.assign(tree, readTree(dir, r));
    else if (d.isFile()) tree[r] = fs.readFileSync(abs, 'utf8');
  }
  return tree;
}

const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

async function get(h: Harness, url: string, status = 200): Promise<request.Response> {
  return request(h.app).get(url).buffer(true).parse(binary).expect(status);
}

function untar(body: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-untar-'));
  execFileSync('tar', ['-xzf', '-', '-C', dir], { input: body });
  return dir;
}

/** A zip's entries as a Tree (symlinks from their Unix mode), and the directory entries. */
async function unzip(body: Buffer): Promise<{ tree: Tree; dirs: string[]; modes: Record<string, number> }> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(body, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const tree: Tree = {};
  const dirs: string[] = [];
  const modes: Record<string, number> = {};
  await new Promise<void>((resolve, reject) => {
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.on('entry', (entry: yauzl.Entry) => {
      const mode = (entry.externalFileAttributes >>> 16) & 0o177777;
      if (entry.fileName.endsWith('/')) {
        dirs.push(entry.fileName);
        return zip.readEntry();
      }
      zip.openReadStream(entry, (err, s) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          tree[entry.fileName] = (mode & 0o170000) === 0o120000 ? `-> ${text}` : text;
          modes[entry.fileName] = mode;
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return { tree, dirs, modes };
}

const prefixed = (prefix: string, tree: Tree): Tree =>
  Object.fromEntries(Object.entries(tree).map(([k, v]) => [`${prefix}/${k}`, v]));

describe('GET /projects/{id}/archive and /history.bundle', () => {
  let h: Harness;
  let projectId: string;
  let ws: string;
  let firstJobId: string;
  const finishJob = (jobId: string, jobType: string, instruction: string): Promise<string> =>
    commitAsRunner(h, { id: projectId, workspace_path: ws }, { id: jobId, jobType, instruction });

  beforeAll(async () => {
    h = await startHarness();
    const res = await request(h.app).post('/api/v1/projects').send({ instruction: 'a CLI to archive' }).expect(202);
    projectId = res.body.id;
    firstJobId = res.body.job.id;
    ws = res.body.workspace_path;
    fs.mkdirSync(path.join(ws, 'src', 'empty'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'app.py'), 'print("fib")\n');
    fs.writeFileSync(path.join(ws, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    fs.writeFileSync(path.join(ws, 'src', 'lib.py'), 'X = 1\n');
    fs.symlinkSync('lib.py', path.join(ws, 'src', 'alias.py'));
    fs.symlinkSync('/etc/passwd', path.join(ws, 'outside'));
    fs.mkdirSync(path.join(ws, '.codex', 'jobs'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.codex', 'request.json'), '{}');
    execFileSync('mkfifo', [path.join(ws, 'pipe')]);
    await finishJob(firstJobId, 'initial_project', 'a CLI to archive');
  });
  afterAll(() => h.close());

  const expectedWorkspace = (): Tree => ({
    'app.py': 'print("fib")\n',
    'run.sh': '#!/bin/sh\necho hi\n',
    'src/lib.py': 'X = 1\n',
    'src/alias.py': '-> lib.py',
    outside: '-> /etc/passwd',
  });

  it('streams the workspace as tar.gz: files, modes and links as they are, no .codex/, no FIFO', async () => {
    const res = await get(h, `/api/v1/projects/${projectId}/archive`);
    expect(res.headers['content-type']).toBe('application/gzip');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${projectId}.tar.gz"`);
    const dir = untar(res.body as Buffer);
    expect(fs.readdirSync(dir)).toEqual([projectId]);
    const root = path.join(dir, projectId);
    expect(readTree(root)).toEqual(expectedWorkspace());
    expect(fs.statSync(path.join(root, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(root, 'src', 'empty')).isDirectory()).toBe(true);
    // The link went in as a link: /etc/passwd was never read into the archive.
    expect(fs.lstatSync(path.join(root, 'outside')).isSymbolicLink()).toBe(true);
    fs.rmSync(dir, { recursive: true });
  });

  it('streams the workspace as zip, and .codex/ with include_codex=1', async () => {
    const res = await get(h, `/api/v1/projects/${projectId}/archive?format=zip&include_codex=1`);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${projectId}.zip"`);
    const { tree, dirs, modes } = await unzip(res.body as Buffer);
    expect(tree).toEqual(prefixed(projectId, { ...expectedWorkspace(), '.codex/request.json': '{}' }));
    expect(dirs).toEqual(expect.arrayContaining([`${projectId}/src/empty/`, `${projectId}/.codex/jobs/`]));
    expect(modes[`${projectId}/run.sh`]! & 0o777).toBe(0o755);
  });

  it('with job=<id>: the tree as that job left it, from the history, in both formats', async () => {
    const edit = await request(h.app)
      .post(`/api/v1/projects/${projectId}/jobs`)
      .send({ job_type: 'edit', instruction: 'remove lib.py' })
      .expect(202);
    fs.rmSync(path.join(ws, 'src', 'lib.py'));
    fs.writeFileSync(path.join(ws, 'app.py'), 'print("changed")\n');
    const editSha = await finishJob(edit.body.id, 'edit', 'remove lib.py');

    const first = await get(h, `/api/v1/projects/${projectId}/archive?job=${firstJobId}`);
    expect(first.headers['content-disposition']).toBe(
      `attachment; filename="${projectId}-${firstJobId.slice(0, 8)}.tar.gz"`,
    );
    const dir = untar(first.body as Buffer);
    // The history holds files and links (no empty directories, no .codex/).
    expect(readTree(path.join(dir, projectId))).toEqual(expectedWorkspace());
    fs.rmSync(dir, { recursive: true });

    const second = await get(h, `/api/v1/projects/${projectId}/archive?job=${edit.body.id}&format=zip`);
    expect(second.headers['x-commit']).toBe(editSha);
    const { tree } = await unzip(second.body as Buffer);
    const { 'src/lib.py': _gone, ...rest } = expectedWorkspace();
    expect(tree).toEqual(prefixed(projectId, { ...rest, 'app.py': 'print("changed")\n' }));
  });

  it('answers bad queries and jobs without a commit in the standard error shape', async () => {
    const bad = await request(h.app).get(`/api/v1/projects/${projectId}/archive?format=rar`).expect(422);
    expect(bad.body).toMatchObject({ code: 422, error: 'validation_error' });
    expect(bad.body.detail[0].loc).toEqual(['query', 'format']);
    const both = await request(h.app)
      .get(`/api/v1/projects/${projectId}/archive?job=${firstJobId}&include_codex=1`)
      .expect(422);
    expect(both.body.detail[0].loc).toEqual(['query', 'include_codex']);
    const queued = await request(h.app)
      .post(`/api/v1/projects/${projectId}/jobs`)
      .send({ job_type: 'edit', instruction: 'not run yet' })
      .expect(202);
    const noCommit = await request(h.app)
      .get(`/api/v1/projects/${projectId}/archive?job=${queued.body.id}`)
      .expect(404);
    expect(noCommit.body.detail).toBe('The job has no commit (yet): it has not finished running');
    await request(h.app).post(`/api/v1/projects/${projectId}/jobs/${queued.body.id}/cancel`).expect(200);
    const unknown = await request(h.app)
      .get(`/api/v1/projects/00000000-0000-4000-8000-000000000000/archive`)
      .expect(404);
    expect(unknown.body.detail).toBe('Project not found');
  });

  it('refuses a workspace over EXPORT_MAX_FILES with 409 before sending anything', async () => {
    const small = await startHarness({ EXPORT_MAX_FILES: '3' });
    try {
      const created = await request(small.app).post('/api/v1/projects').send({ instruction: 'many files' }).expect(202);
      for (const n of [1, 2, 3, 4]) fs.writeFileSync(path.join(created.body.workspace_path, `f${n}`), 'x');
      const res = await request(small.app).get(`/api/v1/projects/${created.body.id}/archive`).expect(409);
      expect(res.body).toMatchObject({
        code: 409,
        detail: 'The archive would be too large: the workspace holds more than 3 files (EXPORT_MAX_FILES)',
      });
    } finally {
      await small.close();
    }
  });

  it('the bundle clones into a repository whose log is the jobs, each with its id and instruction', async () => {
    const fresh = await request(h.app).post('/api/v1/projects').send({ instruction: 'nothing ran' }).expect(202);
    const none = await request(h.app).get(`/api/v1/projects/${fresh.body.id}/history.bundle`).expect(404);
    expect(none.body.detail).toBe('The project has no history yet: no job has finished');

    const res = await get(h, `/api/v1/projects/${projectId}/history.bundle`);
    expect(res.headers['content-type']).toBe('application/x-git-bundle');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-bundle-'));
    const bundle = path.join(dir, 'project.bundle');
    fs.writeFileSync(bundle, res.body as Buffer);
    execFileSync('git', ['clone', '--quiet', bundle, path.join(dir, 'clone')], { env: { ...process.env, HOME: dir } });
    const log = execFileSync('git', ['-C', path.join(dir, 'clone'), 'log', '--reverse', '--format=%B%x00'], {
      encoding: 'utf8',
    })
      .split('\0')
      .map((m) => m.trim())
      .filter(Boolean);
    const jobs = (await request(h.app).get(`/api/v1/projects/${projectId}/jobs`).expect(200)).body.items.filter(
      (j: { commit?: string; status: string }) => j.status === 'completed',
    );
    expect(log).toEqual(
      jobs.map(
        (j: { id: string; job_type: string; instruction: string }) =>
          `${j.job_type}: ${j.instruction}\n\nJob-Id: ${j.id}`,
      ),
    );
    expect(readTree(path.join(dir, 'clone'), '')).toMatchObject({ 'app.py': 'print("changed")\n' });
    fs.rmSync(dir, { recursive: true });
  });

  it("does not show another tenant's archive or bundle", () =>
    withOwnersProject(async ({ h: keyed, owner, stranger, project }) => {
      for (const what of ['archive', 'history.bundle']) {
        const res = await request(keyed.app).get(`/api/v1/projects/${project.id}/${what}`).set(stranger.auth);
        expect(res.status).toBe(404);
        expect(res.body.detail).toBe('Project not found');
      }
      await request(keyed.app).get(`/api/v1/projects/${project.id}/archive`).set(owner.auth).expect(200);
    }));
});
