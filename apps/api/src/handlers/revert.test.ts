import request from 'supertest';
import { finishJob, startJob } from '@cwo/jobs';
import { startHarness, type Harness } from '../../test/harness';

// POST …/jobs/{jobId}/revert: the API only queues the revert (the runner does it, revert.test.ts
// in apps/runner); what it refuses, it refuses in the standard error shape.

describe('POST …/jobs/{jobId}/revert', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  async function projectWithFinishedJob(changed: { files: string[]; commit: string | null }) {
    const res = await request(h.app).post('/api/v1/projects').send({ instruction: 'a project to undo' }).expect(202);
    const jobId: string = res.body.job.id;
    const started = await startJob(h.db, jobId);
    if (started.kind !== 'started') throw new Error('not started');
    await finishJob(h.db, jobId, started.attempt, {
      status: 'completed',
      summary: 'done',
      errors: [],
      created_files: changed.files,
      modified_files: [],
      deleted_files: [],
      result_path: null,
      usage: null,
      thread_id: null,
      commit_sha: changed.commit,
      error_code: null,
    });
    return { projectId: res.body.id as string, jobId };
  }

  it('202 with the queued revert job, enqueued under its id, naming the job it undoes', async () => {
    const { projectId, jobId } = await projectWithFinishedJob({ files: ['app.py'], commit: 'b'.repeat(40) });
    const res = await request(h.app).post(`/api/v1/projects/${projectId}/jobs/${jobId}/revert`).expect(202);
    expect(res.body).toMatchObject({
      project_id: projectId,
      job_type: 'revert',
      status: 'queued',
      reverts_job_id: jobId,
      instruction: `Undo job ${jobId} (initial_project: a project to undo)`,
    });
    expect((await h.queue.getJob(res.body.id))?.data).toEqual({ jobId: res.body.id });
    const detail = await request(h.app).get(`/api/v1/projects/${projectId}/jobs/${res.body.id}`).expect(200);
    expect(detail.body).toMatchObject({ job_type: 'revert', reverts_job_id: jobId });
  });

  it('409 for a job still queued, and for one that changed nothing', async () => {
    const queued = await request(h.app).post('/api/v1/projects').send({ instruction: 'not run yet' }).expect(202);
    const res = await request(h.app)
      .post(`/api/v1/projects/${queued.body.id}/jobs/${queued.body.job.id}/revert`)
      .expect(409);
    expect(res.body).toEqual({
      error: 'conflict',
      message: 'Conflict',
      code: 409,
      detail: 'The job has not finished (status queued): only a finished job can be undone; wait for it, or cancel it',
      correlation_id: res.headers['x-request-id'],
    });
    const unchanged = await projectWithFinishedJob({ files: [], commit: 'c'.repeat(40) });
    const res2 = await request(h.app)
      .post(`/api/v1/projects/${unchanged.projectId}/jobs/${unchanged.jobId}/revert`)
      .expect(409);
    expect(res2.body.detail).toBe(
      'The job changed nothing that the project history kept (status completed): there is nothing to undo',
    );
  });

  it('409 for a job that a revert undoes already, naming it; a second request at once gets the same answer', async () => {
    const { projectId, jobId } = await projectWithFinishedJob({ files: ['app.py'], commit: 'f'.repeat(40) });
    const path = `/api/v1/projects/${projectId}/jobs/${jobId}/revert`;
    const answers = await Promise.all([request(h.app).post(path), request(h.app).post(path)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    const revertId: string = answers.find((a) => a.status === 202)!.body.id;
    expect(answers.find((a) => a.status === 409)!.body.detail).toBe(
      `The job is undone once: job ${revertId} undoes it already (status queued)`,
    );
    expect(await h.db.job.count({ where: { projectId, revertsJobId: jobId } })).toBe(1);
  });

  it('404 for a job of another project, an unknown or malformed job id, and an unknown project', async () => {
    const a = await projectWithFinishedJob({ files: ['app.py'], commit: 'd'.repeat(40) });
    const b = await projectWithFinishedJob({ files: ['app.py'], commit: 'e'.repeat(40) });
    for (const [path, detail] of [
      [`/api/v1/projects/${a.projectId}/jobs/${b.jobId}/revert`, 'Job not found'],
      [`/api/v1/projects/${a.projectId}/jobs/00000000-0000-4000-8000-000000000000/revert`, 'Job not found'],
      [`/api/v1/projects/${a.projectId}/jobs/nope/revert`, 'Job not found'],
      [`/api/v1/projects/00000000-0000-4000-8000-000000000000/jobs/${a.jobId}/revert`, 'Project not found'],
    ]) {
      const res = await request(h.app).post(path!).expect(404);
      expect(res.body).toMatchObject({ error: 'not_found', code: 404, detail });
    }
    expect(await h.db.job.count({ where: { projectId: a.projectId } })).toBe(1);
  });

  it('POST …/jobs cannot make a revert: it needs the job it undoes', async () => {
    const a = await projectWithFinishedJob({ files: ['app.py'], commit: 'f'.repeat(40) });
    const res = await request(h.app)
      .post(`/api/v1/projects/${a.projectId}/jobs`)
      .send({ job_type: 'revert', instruction: 'undo' })
      .expect(422);
    expect(res.body).toMatchObject({ code: 422 });
  });
});
