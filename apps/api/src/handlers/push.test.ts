import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { commitJob } from '@cwo/history';
import { finishJob, startJob } from '@cwo/jobs';
import { projectWorkspace } from '@cwo/workspace';
import { startHarness, type Harness } from '../../test/harness';
import {
  git,
  makeRepo,
  startGitDaemon,
  startGitServer,
  type GitServer,
} from '../../../../packages/code-io/src/__tests__/git-server';

// POST /projects/{id}/push against a real git server (git http-backend on 127.0.0.1, behind basic
// auth): the history goes to a branch of a bare repository and is read back from it; a branch
// with commits the history lacks is refused (409), a wrong token is a 502, a private address
// without IMPORT_ALLOW_PRIVATE_HOSTS a 422; the token is in no answer, log line or row.

const TOKEN = 'push-tok-5e4d3c2b1a';

describe('POST /projects/{id}/push', () => {
  let h: Harness;
  let server: GitServer;
  let reposRoot: string;
  beforeAll(async () => {
    h = await startHarness({ IMPORT_ALLOW_PRIVATE_HOSTS: 'true', IMPORT_ALLOW_HTTP: 'true' });
    reposRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-push-repos-'));
    server = await startGitServer(reposRoot, { username: 'x-access-token', password: TOKEN });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
    fs.rmSync(reposRoot, { recursive: true, force: true });
  });

  /** A project whose jobs each wrote `files` and finished, with their commits in the history. */
  async function projectWithJobs(jobs: Array<Record<string, string>>) {
    const created = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'a project to push' })
      .expect(202);
    const projectId: string = created.body.id;
    const workspace = projectWorkspace(h.config.workspaceRoot, projectId);
    fs.mkdirSync(workspace, { recursive: true });
    const commits: string[] = [];
    const jobIds: string[] = [];
    for (const [i, files] of jobs.entries()) {
      const jobId =
        i === 0
          ? (created.body.job.id as string)
          : (
              await request(h.app)
                .post(`/api/v1/projects/${projectId}/jobs`)
                .send({ job_type: 'edit', instruction: `edit ${i}` })
                .expect(202)
            ).body.id;
      for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(workspace, rel), text);
      const sha = await commitJob({
        workspaceRoot: h.config.workspaceRoot,
        projectId,
        workspace,
        job: {
          id: jobId,
          jobType: i === 0 ? 'initial_project' : 'edit',
          instruction: i === 0 ? 'a project to push' : `edit ${i}`,
        },
        author: { name: 'Test', email: 'test@test.invalid' },
      });
      const started = await startJob(h.db, jobId);
      if (started.kind !== 'started') throw new Error('not started');
      await finishJob(h.db, jobId, started.attempt, {
        status: 'completed',
        summary: 'done',
        errors: [],
        created_files: Object.keys(files),
        modified_files: [],
        deleted_files: [],
        result_path: null,
        usage: null,
        thread_id: null,
        commit_sha: sha,
        error_code: null,
      });
      commits.push(sha);
      jobIds.push(jobId);
    }
    return { projectId, commits, jobIds };
  }

  const push = (projectId: string, body: Record<string, unknown>) =>
    request(h.app).post(`/api/v1/projects/${projectId}/push`).send(body);

  it('creates the branch, then fast-forwards it; the bare repository holds the history', async () => {
    fs.mkdirSync(path.join(reposRoot, 'target.git'));
    git(path.join(reposRoot, 'target.git'), 'init', '--quiet', '--bare', '--initial-branch=main');
    const p = await projectWithJobs([{ 'app.py': 'print(1)\n' }, { 'lib.py': 'X = 1\n' }]);
    const url = server.url('target.git');

    const first = await push(p.projectId, { url, branch: 'codex/result', token: TOKEN }).expect(200);
    expect(first.body).toEqual({
      url,
      branch: 'codex/result',
      commit: p.commits[1],
      previous_commit: null,
      status: 'created',
      commits: 2,
      job_id: p.jobIds[1],
    });
    const bare = path.join(reposRoot, 'target.git');
    expect(git(bare, 'rev-parse', 'refs/heads/codex/result').trim()).toBe(p.commits[1]);
    expect(git(bare, 'show', 'codex/result:lib.py')).toBe('X = 1\n');
    expect(git(bare, 'log', '--format=%s', 'codex/result').trim().split('\n')).toEqual([
      'edit: edit 1',
      'initial_project: a project to push',
    ]);

    // Again: nothing new.
    const again = await push(p.projectId, { url, branch: 'codex/result', token: TOKEN }).expect(200);
    expect(again.body).toMatchObject({ status: 'up_to_date', commits: 0, commit: p.commits[1] });

    // A new job: a fast-forward of one commit.
    const workspace = projectWorkspace(h.config.workspaceRoot, p.projectId);
    const edit = await request(h.app)
      .post(`/api/v1/projects/${p.projectId}/jobs`)
      .send({ job_type: 'edit', instruction: 'edit 2' })
      .expect(202);
    fs.writeFileSync(path.join(workspace, 'lib.py'), 'X = 2\n');
    const sha = await commitJob({
      workspaceRoot: h.config.workspaceRoot,
      projectId: p.projectId,
      workspace,
      job: { id: edit.body.id, jobType: 'edit', instruction: 'edit 2' },
      author: { name: 'Test', email: 'test@test.invalid' },
    });
    // Not finished yet: the push takes the last finished job's commit, not the branch.
    expect((await push(p.projectId, { url, branch: 'codex/result', token: TOKEN }).expect(200)).body).toMatchObject({
      status: 'up_to_date',
      commit: p.commits[1],
    });
    const started = await startJob(h.db, edit.body.id);
    if (started.kind !== 'started') throw new Error('not started');
    await finishJob(h.db, edit.body.id, started.attempt, {
      status: 'completed',
      summary: 'done',
      errors: [],
      created_files: [],
      modified_files: ['lib.py'],
      deleted_files: [],
      result_path: null,
      usage: null,
      thread_id: null,
      commit_sha: sha,
      error_code: null,
    });
    const updated = await push(p.projectId, { url, branch: 'codex/result', token: TOKEN }).expect(200);
    expect(updated.body).toMatchObject({ status: 'updated', commits: 1, commit: sha, previous_commit: p.commits[1] });
    expect(git(bare, 'show', 'codex/result:lib.py')).toBe('X = 2\n');
    for (const res of [first, again, updated]) expect(JSON.stringify(res.body)).not.toContain(TOKEN);
  });

  it('pushes over git:// (git daemon with receive-pack)', async () => {
    const bare = path.join(reposRoot, 'daemon.git');
    fs.mkdirSync(bare);
    git(bare, 'init', '--quiet', '--bare', '--initial-branch=main');
    const daemon = await startGitDaemon(reposRoot, { receivePack: true });
    try {
      const p = await projectWithJobs([{ 'app.py': 'print(1)\n' }]);
      const res = await push(p.projectId, { url: daemon.url('daemon.git'), branch: 'main' }).expect(200);
      expect(res.body).toMatchObject({ status: 'created', commits: 1, commit: p.commits[0] });
      expect(git(bare, 'show', 'main:app.py')).toBe('print(1)\n');
    } finally {
      await daemon.close();
    }
  });

  it('a branch with commits the history lacks is refused (409), and left as it was', async () => {
    const [theirs] = makeRepo(reposRoot, 'busy.git', [{ 'README.md': 'theirs\n' }]);
    const p = await projectWithJobs([{ 'app.py': 'print(1)\n' }]);
    const res = await push(p.projectId, { url: server.url('busy.git'), branch: 'main', token: TOKEN }).expect(409);
    expect(res.body).toMatchObject({ error: 'conflict', code: 409 });
    expect(res.body.detail).toMatch(
      /^The push was rejected: the remote branch main has commits the project history does not have \(not a fast-forward\)/,
    );
    expect(git(path.join(reposRoot, 'busy.git'), 'rev-parse', 'main').trim()).toBe(theirs);
  });

  it('a wrong or missing token is a 502 saying so; the token is in no answer, log line or row', async () => {
    makeRepo(reposRoot, 'auth.git', [{ 'README.md': 'x\n' }]);
    const p = await projectWithJobs([{ 'app.py': 'print(1)\n' }]);
    const wrong = 'wrong-tok-0a9b8c7d';
    for (const token of [wrong, undefined]) {
      const res = await push(p.projectId, {
        url: server.url('auth.git'),
        branch: 'pushed',
        ...(token ? { token } : {}),
      }).expect(502);
      expect(res.body).toMatchObject({ error: 'bad_gateway', code: 502 });
      expect(res.body.detail).toBe(
        'The push failed: authentication failed: the remote refused the credentials (send a token with push rights)',
      );
      expect(JSON.stringify(res.body)).not.toContain(wrong);
    }
    // The token in the URL works as the token does, and is never shown either.
    const inUrl = server.url('auth.git').replace('http://', `http://x-access-token:${TOKEN}@`);
    const ok = await push(p.projectId, { url: inUrl, branch: 'pushed' }).expect(200);
    expect(ok.body.url).toBe(server.url('auth.git'));
    const everything = JSON.stringify([ok.body, h.logs]);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'));
    const rows = await h.db.$queryRawUnsafe<Array<{ text: string }>>(
      `SELECT (SELECT json_agg(p)::text FROM projects p WHERE id = $1::uuid) ||
              (SELECT json_agg(j)::text FROM jobs j WHERE project_id = $1::uuid) AS text`,
      p.projectId,
    );
    expect(rows[0]!.text).not.toContain(TOKEN);
  });

  it('422 for a URL the rules refuse and an invalid branch; 502 unreachable; 409 with nothing finished; 404 for no such project', async () => {
    const p = await projectWithJobs([{ 'app.py': 'print(1)\n' }]);
    for (const [body, loc] of [
      [{ url: 'file:///etc', branch: 'x' }, 'url'],
      [{ url: 'ext::sh -c touch% /tmp/pwned', branch: 'x' }, 'url'],
      [{ url: 'git://127.0.0.1/x.git', branch: 'x', token: TOKEN }, 'url'],
      [{ url: server.url('auth.git'), branch: '../x' }, 'branch'],
      [{ url: server.url('auth.git'), branch: 'a..b' }, 'branch'],
      [{ url: server.url('auth.git'), branch: '-f' }, 'branch'],
    ] as const) {
      const res = await push(p.projectId, body).expect(422);
      expect(res.body.detail[0].loc).toEqual(['body', loc]);
    }
    const strict = await startHarness({ IMPORT_ALLOW_HTTP: 'true' });
    try {
      const res = await request(strict.app)
        .post(`/api/v1/projects/${p.projectId}/push`)
        .send({ url: server.url('auth.git'), branch: 'x', token: TOKEN })
        .expect(422);
      expect(res.body.detail[0]).toMatchObject({
        loc: ['body', 'url'],
        msg: '127.0.0.1 is a loopback address: not allowed (IMPORT_ALLOW_PRIVATE_HOSTS)',
      });
    } finally {
      await strict.close();
    }
    const unreachable = await push(p.projectId, { url: 'http://127.0.0.1:1/x.git', branch: 'x' }).expect(502);
    expect(unreachable.body.detail).toMatch(
      /^The push failed: .*(Failed to connect|Connection refused|Could not connect)/i,
    );
    const fresh = await request(h.app).post('/api/v1/projects').send({ instruction: 'nothing ran yet' }).expect(202);
    const none = await push(fresh.body.id, { url: server.url('auth.git'), branch: 'x' }).expect(409);
    expect(none.body.detail).toBe('Nothing to push: no job of the project has finished with a commit');
    await push('00000000-0000-4000-8000-000000000000', { url: server.url('auth.git'), branch: 'x' }).expect(404);
  });
});
