import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';

// Checks on the HTTP contract: a project's defaults, a job's own, validation (docs/checks.md).

describe('checks on projects and jobs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const tests = { name: 'tests', run: 'python3 -m pytest -q' };

  it('a project’s checks and fix attempts are its defaults: its initial job and later jobs get them unless they name their own', async () => {
    const created = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'a project with checks', checks: [tests], fix_attempts: 2 })
      .expect(202);
    expect(created.body).toMatchObject({ checks: [tests], fix_attempts: 2 });
    const projectId = created.body.id as string;
    const initial = await request(h.app).get(`/api/v1/projects/${projectId}/jobs/${created.body.job.id}`).expect(200);
    expect(initial.body).toMatchObject({ checks: [tests], fix_attempts: 2, check_results: null });

    const inherits = await request(h.app)
      .post(`/api/v1/projects/${projectId}/jobs`)
      .send({ job_type: 'edit', instruction: 'change it' })
      .expect(202);
    const own = await request(h.app)
      .post(`/api/v1/projects/${projectId}/jobs`)
      .send({
        job_type: 'edit',
        instruction: 'change it again',
        checks: [{ name: 'quick', run: 'true', timeout_seconds: 5 }],
        fix_attempts: 0,
      })
      .expect(202);
    const none = await request(h.app)
      .post(`/api/v1/projects/${projectId}/jobs`)
      .send({ job_type: 'edit', instruction: 'no checks for this one', checks: [] })
      .expect(202);
    const detail = async (id: string) =>
      (await request(h.app).get(`/api/v1/projects/${projectId}/jobs/${id}`).expect(200)).body;
    expect(await detail(inherits.body.id)).toMatchObject({ checks: [tests], fix_attempts: 2 });
    expect(await detail(own.body.id)).toMatchObject({
      checks: [{ name: 'quick', run: 'true', timeout_seconds: 5 }],
      fix_attempts: 0,
    });
    expect(await detail(none.body.id)).toMatchObject({ checks: [], fix_attempts: 2 });
  });

  it('a project without checks has none, and neither have its jobs', async () => {
    const created = await request(h.app).post('/api/v1/projects').send({ instruction: 'no checks here' }).expect(202);
    expect(created.body).toMatchObject({ checks: [], fix_attempts: 0 });
    const job = await request(h.app).get(`/api/v1/projects/${created.body.id}/jobs/${created.body.job.id}`).expect(200);
    expect(job.body).toMatchObject({ checks: [], fix_attempts: 0, check_results: null });
  });

  it.each([
    ['a duplicate name', { checks: [tests, tests] }, 'checks'],
    ['an empty command', { checks: [{ name: 'x', run: '  ' }] }, 'checks.0.run'],
    ['a name with a quote', { checks: [{ name: 'a"b', run: 'true' }] }, 'checks.0.name'],
    [
      'a time limit over an hour',
      { checks: [{ name: 'x', run: 'true', timeout_seconds: 3601 }] },
      'checks.0.timeout_seconds',
    ],
    ['an unknown field', { checks: [{ name: 'x', run: 'true', shell: 'bash' }] }, 'checks.0'],
    ['eleven checks', { checks: Array.from({ length: 11 }, (_, i) => ({ name: `c${i}`, run: 'true' })) }, 'checks'],
    ['four fix attempts', { checks: [tests], fix_attempts: 4 }, 'fix_attempts'],
  ])('422 for %s, naming the field', async (_what, extra, field) => {
    const res = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'a project with bad checks', ...extra })
      .expect(422);
    const locations = (res.body.detail as Array<{ loc: Array<string | number> }>).map((d) => d.loc.slice(1).join('.'));
    expect(locations).toContain(field);
  });
});
