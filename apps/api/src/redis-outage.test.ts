import request from 'supertest';
import { DEAD_REDIS_URL, startHarness, type Harness } from '../test/harness';

// Redis down: writes still land in Postgres (the reconciler enqueues them later), the client gets
// a quick 503 in the standard shape instead of a hung request.

describe('with Redis down', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ REDIS_URL: DEAD_REDIS_URL });
  });
  afterAll(() => h.close());

  it('POST /projects answers 503 promptly and leaves the project and job queued in Postgres', async () => {
    const res = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'created while redis is down' })
      .timeout(8000) // without fail-fast settings the request would hang until jest gives up
      .expect(503);
    expect(res.body).toMatchObject({ error: 'service_unavailable', message: 'Service unavailable', code: 503 });
    expect(res.body.correlation_id).toBe(res.headers['x-request-id']);
    // The answer names what was saved, so the client can follow it instead of creating it again.
    const project = await h.db.project.findUniqueOrThrow({
      where: { id: res.body.detail.project_id },
      include: { jobs: true },
    });
    expect(res.body.detail.job_id).toBe(project.jobs[0]?.id);
    expect(project.instruction).toBe('created while redis is down');
    expect(project.status).toBe('queued');
    expect(project.jobs.map((j) => [j.jobType, j.status])).toEqual([['initial_project', 'queued']]);
  });

  it('POST …/jobs answers 503 and leaves the job queued', async () => {
    const project = await h.db.project.create({
      data: { instruction: 'exists already', workspacePath: '/tmp/unused' },
    });
    const res = await request(h.app)
      .post(`/api/v1/projects/${project.id}/jobs`)
      .send({ job_type: 'edit', instruction: 'edit while redis is down' })
      .timeout(8000)
      .expect(503);
    const job = await h.db.job.findUniqueOrThrow({ where: { id: res.body.detail.job_id } });
    expect(job.projectId).toBe(project.id);
    expect(job.status).toBe('queued');
  });

  it('reads keep working (they need only Postgres)', async () => {
    await request(h.app).get('/api/v1/projects').expect(200);
  });
});
