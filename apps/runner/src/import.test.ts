import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { uploadFile, writeCredential, writeSshCredentials, importDir } from '@cwo/code-io';
import type { ProjectSource } from '@cwo/contracts';
import { projectHistoryDir } from '@cwo/history';
import { projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import { addEdit, createProject, readJobLog, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';
import {
  makeRepo,
  makeSuperproject,
  startGitServer,
  type GitServer,
} from '../../../packages/code-io/src/__tests__/git-server';
import { loopbackAddress, startSshServer } from '../../../packages/code-io/src/__tests__/ssh-server';

// The import step with the real runner and the dummy agent: a project created from a git
// repository (git http-backend on 127.0.0.1, behind basic auth) or an uploaded archive gets it as
// the history's first commit, and the initial job's commit holds only what the agent changed.
// A refused import ends the job with its error_code and leaves the workspace as it was.

const TOKEN = 'tok-9f8e7d6c5b4a';
const asText = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));

describe('a project created from existing code', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  let reposRoot: string;
  let server: GitServer;

  beforeAll(async () => {
    reposRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-import-repos-'));
    makeRepo(reposRoot, 'service.git', [
      { 'service/main.py': 'print("v1")\n' },
      { 'service/main.py': 'print("v2")\n', 'README.md': '# The service\n' },
    ]);
    server = await startGitServer(reposRoot, { username: 'x-access-token', password: TOKEN });
    harness.onCleanup(() => server.close());
  });

  const config = () =>
    testConfig({ IMPORT_ALLOW_PRIVATE_HOSTS: 'true', IMPORT_ALLOW_HTTP: 'true', IMPORT_MAX_RATIO: '200' });

  async function projectWithSource(cfg: ReturnType<typeof config>, source: ProjectSource) {
    const created = await createProject(db, cfg, 'Add a CLI to the service');
    await db.project.update({ where: { id: created.projectId }, data: { source } });
    fs.mkdirSync(projectWorkspace(cfg.workspaceRoot, created.projectId), { recursive: true });
    return created;
  }

  const gitLog = (cfg: ReturnType<typeof config>, projectId: string, ...args: string[]) =>
    execFileSync('git', [`--git-dir=${projectHistoryDir(cfg.workspaceRoot, projectId)}`, ...args], {
      encoding: 'utf8',
    });

  it('imports a git repository with a token as the first commit; the job’s diff is only the agent’s', async () => {
    const cfg = config();
    const queue = harness.queue(cfg);
    await harness.startRunner(cfg, createDummyExecutor());
    const { projectId, jobId } = await projectWithSource(cfg, {
      kind: 'git',
      url: server.url('service.git'),
      ref: null,
    });
    writeCredential(cfg.workspaceRoot, projectId, TOKEN);
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId);
    expect(job).toMatchObject({ status: 'completed', errorCode: null });
    expect(job.createdFiles).toEqual(expect.arrayContaining(['app.py', 'tests/test_cli.py']));
    expect(job.createdFiles).not.toContain('service/main.py');

    const ws = projectWorkspace(cfg.workspaceRoot, projectId);
    expect(fs.readFileSync(path.join(ws, 'service', 'main.py'), 'utf8')).toBe('print("v2")\n');
    const project = await db.project.findUniqueOrThrow({ where: { id: projectId } });
    const subjects = gitLog(cfg, projectId, 'log', '--reverse', '--format=%s').trim().split('\n');
    expect(subjects).toEqual([
      expect.stringMatching(/^import: http:\/\/127\.0\.0\.1:\d+\/service\.git \(\w{12}\)$/),
      'initial_project: Add a CLI to the service',
    ]);
    expect(gitLog(cfg, projectId, 'rev-list', '--max-parents=0', 'main').trim()).toBe(project.importCommit);
    const changed = gitLog(cfg, projectId, 'show', '--name-only', '--format=', job.commitSha!).trim().split('\n');
    expect(changed).not.toContain('service/main.py');
    expect(changed).toContain('app.py');

    // The token reached the server, and nothing else: not the log, not a row, not the history.
    expect(server.authorizations).toContain(`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`);
    const log = await readJobLog(cfg, projectId, jobId);
    expect(log).toMatch(/import: bringing the project's source in \(time limit 600 s\)/);
    expect(log).toMatch(/import: .* is in the workspace, committed as \w{12}/);
    expect(log).not.toContain(TOKEN);
    expect(asText(await db.project.findMany({ where: { id: projectId }, include: { jobs: true } }))).not.toContain(
      TOKEN,
    );
    expect(fs.existsSync(importDir(cfg.workspaceRoot, projectId))).toBe(false);

    // A later job starts from there, and the restore step keeps the imported files.
    const edit = await addEdit(db, projectId, 'another change');
    await queue.enqueue(edit);
    expect(await waitForJob(db, edit)).toMatchObject({ status: 'completed', modifiedFiles: ['app.py'] });
    expect(fs.existsSync(path.join(ws, 'service', 'main.py'))).toBe(true);
  });

  it('fails with import_failed when the token is wrong, saying so without it', async () => {
    const cfg = config();
    const queue = harness.queue(cfg);
    await harness.startRunner(cfg, createDummyExecutor());
    const { projectId, jobId } = await projectWithSource(cfg, {
      kind: 'git',
      url: server.url('service.git'),
      ref: 'main',
    });
    writeCredential(cfg.workspaceRoot, projectId, 'not-the-token-42');
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId);
    expect(job).toMatchObject({ status: 'error', errorCode: 'import_failed', commitSha: null, createdFiles: [] });
    expect(job.errors[0]).toMatch(/^import: git fetch failed: /);
    expect(asText(job)).not.toContain('not-the-token-42');
    expect(await readJobLog(cfg, projectId, jobId)).not.toContain('not-the-token-42');
    expect(fs.readdirSync(projectWorkspace(cfg.workspaceRoot, projectId))).toEqual(['.codex']);
  });

  it('imports an uploaded tar.gz from inside its one top-level directory', async () => {
    const cfg = config();
    const queue = harness.queue(cfg);
    await harness.startRunner(cfg, createDummyExecutor());
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-upload-'));
    fs.mkdirSync(path.join(src, 'proj-1.0', 'pkg'), { recursive: true });
    fs.writeFileSync(path.join(src, 'proj-1.0', 'pkg', 'core.py'), 'CORE = True\n');
    const { projectId, jobId } = await projectWithSource(cfg, {
      kind: 'archive',
      format: 'tar.gz',
      bytes: 1,
      sha256: 'ab'.repeat(32),
    });
    fs.mkdirSync(importDir(cfg.workspaceRoot, projectId), { recursive: true });
    execFileSync('tar', ['-czf', uploadFile(cfg.workspaceRoot, projectId), '-C', src, 'proj-1.0']);
    await queue.enqueue(jobId);
    expect(await waitForJob(db, jobId)).toMatchObject({ status: 'completed' });
    const ws = projectWorkspace(cfg.workspaceRoot, projectId);
    expect(fs.readFileSync(path.join(ws, 'pkg', 'core.py'), 'utf8')).toBe('CORE = True\n');
    expect(gitLog(cfg, projectId, 'show', '--name-only', '--format=%s', 'main~1').trim().split('\n')).toEqual([
      expect.stringMatching(/^import: tar\.gz archive, 3 entries/),
      '',
      'pkg/core.py',
    ]);
  });

  it('refuses an archive with an escaping link: import_refused, nothing written to the workspace', async () => {
    const cfg = config();
    const queue = harness.queue(cfg);
    await harness.startRunner(cfg, createDummyExecutor());
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-upload-'));
    fs.writeFileSync(path.join(src, 'ok.py'), 'fine\n');
    fs.symlinkSync('../../../../etc', path.join(src, 'escape'));
    const { projectId, jobId } = await projectWithSource(cfg, {
      kind: 'archive',
      format: 'tar.gz',
      bytes: 1,
      sha256: 'cd'.repeat(32),
    });
    fs.mkdirSync(importDir(cfg.workspaceRoot, projectId), { recursive: true });
    execFileSync('tar', ['-czf', uploadFile(cfg.workspaceRoot, projectId), '-C', src, 'ok.py', 'escape']);
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId);
    expect(job).toMatchObject({ status: 'error', errorCode: 'import_refused', commitSha: null });
    expect(job.errors).toEqual(['import: the link escape points outside the project (../../../../etc)']);
    expect(fs.readdirSync(projectWorkspace(cfg.workspaceRoot, projectId))).toEqual(['.codex']);
    expect(fs.existsSync(importDir(cfg.workspaceRoot, projectId))).toBe(false);
    expect(fs.existsSync(projectHistoryDir(cfg.workspaceRoot, projectId))).toBe(false);
  });

  it('fetches submodules when asked; one at a refused URL refuses the import with nothing written', async () => {
    const cfg = config();
    const queue = harness.queue(cfg);
    await harness.startRunner(cfg, createDummyExecutor());
    const [lib] = makeRepo(reposRoot, 'lib.git', [{ 'lib.py': 'A = 1\n' }]);
    makeSuperproject(reposRoot, 'with-lib.git', { 'main.py': 'import lib\n' }, [
      { path: 'lib', url: '../lib.git', commit: lib! },
    ]);
    makeSuperproject(reposRoot, 'with-bad-lib.git', { 'main.py': 'import lib\n' }, [
      { path: 'lib', url: '../lib.git', commit: lib! },
      { path: 'evil', url: 'file:///etc/lib.git', commit: lib! },
    ]);
    const good = await projectWithSource(cfg, {
      kind: 'git',
      url: server.url('with-lib.git'),
      ref: null,
      submodules: true,
    });
    writeCredential(cfg.workspaceRoot, good.projectId, TOKEN);
    await queue.enqueue(good.jobId);
    expect(await waitForJob(db, good.jobId)).toMatchObject({ status: 'completed', errorCode: null });
    const ws = projectWorkspace(cfg.workspaceRoot, good.projectId);
    expect(fs.readFileSync(path.join(ws, 'lib', 'lib.py'), 'utf8')).toBe('A = 1\n');
    expect(fs.existsSync(path.join(ws, 'lib', '.git'))).toBe(false);
    expect(await readJobLog(cfg, good.projectId, good.jobId)).toMatch(/import: fetching submodule lib from /);

    const bad = await projectWithSource(cfg, {
      kind: 'git',
      url: server.url('with-bad-lib.git'),
      ref: null,
      submodules: true,
    });
    writeCredential(cfg.workspaceRoot, bad.projectId, TOKEN);
    await queue.enqueue(bad.jobId);
    const job = await waitForJob(db, bad.jobId);
    expect(job).toMatchObject({ status: 'error', errorCode: 'import_refused', commitSha: null });
    expect(job.errors).toEqual([
      expect.stringMatching(/^import: the submodule at evil: the URL must start with https:\/\/, .*, git:\/\//),
    ]);
    expect(fs.readdirSync(projectWorkspace(cfg.workspaceRoot, bad.projectId))).toEqual(['.codex']);
    expect(fs.existsSync(importDir(cfg.workspaceRoot, bad.projectId))).toBe(false);
  });

  it('imports over ssh with the deploy key; the key is in no log line, row or history, and its file is gone', async () => {
    const cfg = config();
    const queue = harness.queue(cfg);
    await harness.startRunner(cfg, createDummyExecutor());
    const sshd = await startSshServer(reposRoot);
    harness.onCleanup(() => sshd.close());
    const { projectId, jobId } = await projectWithSource(cfg, {
      kind: 'git',
      url: sshd.url('service.git'),
      ref: 'main',
      submodules: false,
    });
    writeSshCredentials(cfg.workspaceRoot, projectId, { key: sshd.clientKey, knownHosts: sshd.knownHosts });
    await queue.enqueue(jobId);
    expect(await waitForJob(db, jobId)).toMatchObject({ status: 'completed', errorCode: null });
    const ws = projectWorkspace(cfg.workspaceRoot, projectId);
    expect(fs.readFileSync(path.join(ws, 'service', 'main.py'), 'utf8')).toBe('print("v2")\n');
    const secret = sshd.clientKey.split('\n')[1]!;
    const log = await readJobLog(cfg, projectId, jobId);
    expect(log).toMatch(/import: fetching ssh:\/\/\S+@127\.0\.0\.1:\d+\S*\/service\.git at main \(shallow\)/);
    expect(log).not.toContain(secret);
    expect(asText(await db.project.findMany({ where: { id: projectId }, include: { jobs: true } }))).not.toContain(
      secret,
    );
    expect(gitLog(cfg, projectId, 'log', '--all', '--format=%B')).not.toContain(secret);
    expect(fs.existsSync(importDir(cfg.workspaceRoot, projectId))).toBe(false);
  });

  it('imports from the scp form user@host:path (sshd on port 22, the form has no port)', async () => {
    const cfg = config();
    const queue = harness.queue(cfg);
    await harness.startRunner(cfg, createDummyExecutor());
    const sshd = await startSshServer(reposRoot, { address: loopbackAddress(), port: 22 });
    harness.onCleanup(() => sshd.close());
    const url = `${sshd.user}@${sshd.address}:${path.join(reposRoot, 'service.git')}`;
    const { projectId, jobId } = await projectWithSource(cfg, { kind: 'git', url, ref: 'main', submodules: false });
    writeSshCredentials(cfg.workspaceRoot, projectId, { key: sshd.clientKey, knownHosts: sshd.knownHosts });
    await queue.enqueue(jobId);
    expect(await waitForJob(db, jobId)).toMatchObject({ status: 'completed', errorCode: null });
    const ws = projectWorkspace(cfg.workspaceRoot, projectId);
    expect(fs.readFileSync(path.join(ws, 'service', 'main.py'), 'utf8')).toBe('print("v2")\n');
    const project = await db.project.findUniqueOrThrow({ where: { id: projectId } });
    expect(gitLog(cfg, projectId, 'ls-tree', '-r', '--name-only', project.importCommit!).split('\n')).toEqual(
      expect.arrayContaining(['README.md', 'service/main.py']),
    );
    expect(await readJobLog(cfg, projectId, jobId)).toContain(`import: fetching ${url} at main (shallow)`);
    expect(gitLog(cfg, projectId, 'log', '--reverse', '--format=%s').split('\n')[0]).toContain(
      `import: ${url} at main (`,
    );
  });
});
