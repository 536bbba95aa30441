import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { commitAsRunner } from '../../test/history';
import { withOwnersProject } from '../../test/tenants';

// GET …/jobs/{jobId}/diff. The runner's part (committing each job) is played here by the same
// history module it uses; the job row then names the commit, as the runner writes it.

describe('GET …/jobs/{jobId}/diff', () => {
  let h: Harness;
  let projectId: string;
  let firstJobId: string;
  let ws: string;

  async function runJob(
    jobId: string,
    jobType: string,
    instruction: string,
    files: Record<string, string>,
  ): Promise<string> {
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
      fs.writeFileSync(path.join(ws, rel), text);
    }
    return commitAsRunner(h, { id: projectId, workspace_path: ws }, { id: jobId, jobType, instruction });
  }

  beforeAll(async () => {
    h = await startHarness();
    const res = await request(h.app).post('/api/v1/projects').send({ instruction: 'a CLI with a diff' }).expect(202);
    projectId = res.body.id;
    firstJobId = res.body.job.id;
    ws = res.body.workspace_path;
  });
  afterAll(() => h.close());

  it('answers 404 while the job has no commit', async () => {
    const res = await request(h.app).get(`/api/v1/projects/${projectId}/jobs/${firstJobId}/diff`).expect(404);
    expect(res.body).toMatchObject({ code: 404, detail: 'The job has no commit (yet): it has not finished running' });
    expect(res.body.correlation_id).toBe(res.headers['x-request-id']);
  });

  it("serves the job's unified diff as text, under the canonical and the short path", async () => {
    const sha = await runJob(firstJobId, 'initial_project', 'a CLI with a diff', {
      'app.py': 'print("fib")\n',
      '.codex/result.json': '{"status":"success"}',
    });

    const res = await request(h.app).get(`/api/v1/projects/${projectId}/jobs/${firstJobId}/diff`).expect(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['x-commit']).toBe(sha);
    expect(res.text).toBe(
      'diff --git a/app.py b/app.py\nnew file mode 100644\nindex 0000000..7e83898\n--- /dev/null\n+++ b/app.py\n@@ -0,0 +1 @@\n+print("fib")\n',
    );
    const short = await request(h.app).get(`/api/v1/${projectId}/jobs/${firstJobId}/diff`).expect(200);
    expect(short.text).toBe(res.text);

    const detail = await request(h.app).get(`/api/v1/projects/${projectId}/jobs/${firstJobId}`).expect(200);
    expect(detail.body).toMatchObject({ commit: sha, usage: null });
  });

  it('shows an edit against the job before it, and the token usage in the job detail', async () => {
    const edit = await request(h.app)
      .post(`/api/v1/projects/${projectId}/jobs`)
      .send({ job_type: 'edit', instruction: 'print more' })
      .expect(202);
    await runJob(edit.body.id, 'edit', 'print more', { 'app.py': 'print("fib")\nprint("more")\n' });
    await h.db.job.update({
      where: { id: edit.body.id },
      data: { inputTokens: 2000, cachedInputTokens: 400, outputTokens: 100 },
    });

    const res = await request(h.app).get(`/api/v1/projects/${projectId}/jobs/${edit.body.id}/diff`).expect(200);
    expect(res.text).toContain('--- a/app.py\n+++ b/app.py\n@@ -1 +1,2 @@\n print("fib")\n+print("more")\n');
    const detail = await request(h.app).get(`/api/v1/projects/${projectId}/jobs/${edit.body.id}`).expect(200);
    expect(detail.body.usage).toEqual({ input_tokens: 2000, cached_input_tokens: 400, output_tokens: 100 });
  });

  it('answers 404 for an unknown job, and for a commit missing from the history', async () => {
    const unknown = await request(h.app)
      .get(`/api/v1/projects/${projectId}/jobs/00000000-0000-4000-8000-000000000000/diff`)
      .expect(404);
    expect(unknown.body.detail).toBe('Job not found');
    const other = await request(h.app).post('/api/v1/projects').send({ instruction: 'no history here' }).expect(202);
    await h.db.job.update({ where: { id: other.body.job.id }, data: { commitSha: 'f'.repeat(40) } });
    const missing = await request(h.app)
      .get(`/api/v1/projects/${other.body.id}/jobs/${other.body.job.id}/diff`)
      .expect(404);
    expect(missing.body.detail).toBe('The job’s commit is missing from the project history');
  });

  it('says that a cancelled job was cancelled before it changed anything (not that it is still running)', async () => {
    const other = await request(h.app).post('/api/v1/projects').send({ instruction: 'cancel me first' }).expect(202);
    const url = `/api/v1/projects/${other.body.id}/jobs/${other.body.job.id}`;
    await request(h.app).post(`${url}/cancel`).expect(200);

    const res = await request(h.app).get(`${url}/diff`).expect(404);
    expect(res.body.detail).toBe('The job was cancelled before it changed anything: it has no commit');
    const archive = await request(h.app)
      .get(`/api/v1/projects/${other.body.id}/archive?job=${other.body.job.id}`)
      .expect(404);
    expect(archive.body.detail).toBe(res.body.detail);
  });

  it('is in the OpenAPI document, with the commit and usage of the job detail', async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    for (const path of ['/api/v1/projects/{projectId}/jobs/{jobId}/diff', '/api/v1/{projectId}/jobs/{jobId}/diff']) {
      const op = doc.paths[path].get;
      expect(Object.keys(op.responses['200'].content)).toEqual(['text/plain']);
      expect(op.responses['404'].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponse');
    }
    const detail = doc.components.schemas.JobDetail.allOf[1];
    expect(detail.required).toEqual(expect.arrayContaining(['usage', 'commit']));
    expect(detail.properties).toMatchObject({
      commit: { type: 'string', nullable: true },
      usage: { anyOf: [{ $ref: '#/components/schemas/TokenUsage' }, { nullable: true }] },
    });
    expect(doc.components.schemas.TokenUsage.nullable).toBeUndefined();
  });

  it("does not show another tenant's diff", () =>
    withOwnersProject(async ({ h: keyed, owner, stranger, project }) => {
      await commitAsRunner(keyed, project, {
        id: project.job.id,
        jobType: 'initial_project',
        instruction: 'private work',
      });
      const url = `/api/v1/projects/${project.id}/jobs/${project.job.id}/diff`;

      await request(keyed.app).get(url).set(owner.auth).expect(200);
      const res = await request(keyed.app).get(url).set(stranger.auth).expect(404);
      expect(res.body.detail).toBe('Project not found');
    }));
});
