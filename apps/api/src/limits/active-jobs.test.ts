import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { createTenant, type Tenant } from '../../test/tenants';

// MAX_ACTIVE_JOBS_PER_USER: a tenant's jobs queued or in_progress at once, counted in Postgres
// when a project (its initial job) or a job is created. No runner runs here: jobs stay queued
// until the test finishes them in the database, as a runner would.

const INSTRUCTION = 'A Python CLI that prints the first 10 Fibonacci numbers';

function expectCapReached(res: request.Response, limit: number): void {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({
    error: 'rate_limited',
    message: 'Too many requests',
    code: 429,
    detail: `Active job limit reached: at most ${limit} jobs may be queued or in_progress at once per user; wait for one to finish, or cancel one`,
    correlation_id: res.headers['x-request-id'],
  });
  expect(res.headers['retry-after']).toMatch(/^\d+$/);
}

describe('active-job cap', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'api_key', MAX_ACTIVE_JOBS_PER_USER: '2' });
  });
  afterAll(() => h.close());

  const createProject = (who: Tenant) =>
    request(h.app).post('/api/v1/projects').set(who.auth).send({ instruction: INSTRUCTION });
  const createJob = (who: Tenant, projectId: string) =>
    request(h.app)
      .post(`/api/v1/projects/${projectId}/jobs`)
      .set(who.auth)
      .send({ job_type: 'edit', instruction: 'add a flag' });
  const jobsOf = (who: Tenant) =>
    h.db.job.findMany({ where: { project: { ownerId: who.userId } }, orderBy: { seq: 'asc' } });

  it('429 for projects and jobs once the cap is reached, nothing created; a job finishing frees a slot', async () => {
    const alice = await createTenant(h.db, 'alice');
    const project = await createProject(alice).expect(202);
    await createJob(alice, project.body.id).expect(202);
    expectCapReached(await createJob(alice, project.body.id), 2);
    expectCapReached(await createProject(alice), 2);
    expect(await jobsOf(alice)).toHaveLength(2);
    expect(await h.db.project.count({ where: { ownerId: alice.userId } })).toBe(1);

    // Running jobs count too.
    const [first, second] = await jobsOf(alice);
    await h.db.job.update({ where: { id: first!.id }, data: { status: 'in_progress', startedAt: new Date() } });
    expectCapReached(await createJob(alice, project.body.id), 2);

    // A runner finishes one: room for one more, and only one.
    await h.db.job.update({ where: { id: first!.id }, data: { status: 'completed', finishedAt: new Date() } });
    await createJob(alice, project.body.id).expect(202);
    expectCapReached(await createJob(alice, project.body.id), 2);

    // Failed and cancelled jobs free their slots as well; cancelling through the API does.
    await h.db.job.update({
      where: { id: second!.id },
      data: { status: 'error', errorCode: 'agent_error', finishedAt: new Date() },
    });
    const third = await createJob(alice, project.body.id).expect(202);
    await request(h.app)
      .post(`/api/v1/projects/${project.body.id}/jobs/${third.body.id}/cancel`)
      .set(alice.auth)
      .expect(200);
    await createProject(alice).expect(202);
  });

  it("is per user: one tenant's full cap does not hold back another", async () => {
    const bob = await createTenant(h.db, 'bob');
    const carol = await createTenant(h.db, 'carol');
    await createProject(bob).expect(202);
    await createProject(bob).expect(202);
    expectCapReached(await createProject(bob), 2);
    await createProject(carol).expect(202);
  });

  it('holds under concurrent creations: exactly the cap gets through', async () => {
    const dave = await createTenant(h.db, 'dave');
    const answers = await Promise.all(Array.from({ length: 8 }, () => createProject(dave)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 429, 429, 429, 429, 429, 429]);
    expect(await jobsOf(dave)).toHaveLength(2);
  });
});
