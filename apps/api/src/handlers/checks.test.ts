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

  describe('PATCH /projects/{id}: changing the defaults later', () => {
    const lint = { name: 'lint', run: 'python3 -m pyflakes .', timeout_seconds: 60 };

    async function project(extra: object = {}) {
      const created = await request(h.app)
        .post('/api/v1/projects')
        .send({ instruction: 'a project whose checks change', checks: [tests], fix_attempts: 1, ...extra })
        .expect(202);
      return created.body as { id: string; job: { id: string } };
    }

    it('sets the checks and fix attempts its later jobs get; jobs already made keep theirs', async () => {
      const { id, job } = await project();
      const queued = await request(h.app)
        .post(`/api/v1/projects/${id}/jobs`)
        .send({ job_type: 'edit', instruction: 'made before the change' })
        .expect(202);

      const changed = await request(h.app)
        .patch(`/api/v1/projects/${id}`)
        .send({ checks: [lint], fix_attempts: 3 })
        .expect(200);
      expect(changed.body).toMatchObject({ id, checks: [lint], fix_attempts: 3, status: 'queued' });
      expect((await request(h.app).get(`/api/v1/projects/${id}`).expect(200)).body).toMatchObject({
        checks: [lint],
        fix_attempts: 3,
      });
      const listed = await request(h.app).get('/api/v1/projects').expect(200);
      expect(listed.body.items.find((p: { id: string }) => p.id === id)).toMatchObject({ checks: [lint] });

      const after = await request(h.app)
        .post(`/api/v1/projects/${id}/jobs`)
        .send({ job_type: 'edit', instruction: 'made after the change' })
        .expect(202);
      const detail = async (jobId: string) =>
        (await request(h.app).get(`/api/v1/projects/${id}/jobs/${jobId}`).expect(200)).body;
      expect(await detail(job.id)).toMatchObject({ checks: [tests], fix_attempts: 1 });
      expect(await detail(queued.body.id)).toMatchObject({ checks: [tests], fix_attempts: 1 });
      expect(await detail(after.body.id)).toMatchObject({ checks: [lint], fix_attempts: 3 });
    });

    it('changes only the fields it names; [] removes the checks', async () => {
      const { id } = await project();
      const attempts = await request(h.app).patch(`/api/v1/projects/${id}`).send({ fix_attempts: 0 }).expect(200);
      expect(attempts.body).toMatchObject({ checks: [tests], fix_attempts: 0 });
      const none = await request(h.app).patch(`/api/v1/projects/${id}`).send({ checks: [] }).expect(200);
      expect(none.body).toMatchObject({ checks: [], fix_attempts: 0 });
      const row = await h.db.project.findUniqueOrThrow({ where: { id } });
      expect({ checks: row.checks, fixAttempts: row.fixAttempts }).toEqual({ checks: [], fixAttempts: 0 });
    });

    it.each([
      ['a duplicate name', { checks: [tests, tests] }, 'checks'],
      ['an empty command', { checks: [{ name: 'x', run: '  ' }] }, 'checks.0.run'],
      ['an unknown field of a check', { checks: [{ name: 'x', run: 'true', shell: 'bash' }] }, 'checks.0'],
      ['four fix attempts', { fix_attempts: 4 }, 'fix_attempts'],
      ['checks that are not a list', { checks: 'pytest' }, 'checks'],
      ['nothing to change', { instruction: 'not changeable' }, ''],
    ])('422 for %s, naming the field, and nothing changed', async (_what, body, field) => {
      const { id } = await project();
      const res = await request(h.app).patch(`/api/v1/projects/${id}`).send(body).expect(422);
      expect(res.body).toMatchObject({ error: 'validation_error', code: 422 });
      const locations = (res.body.detail as Array<{ loc: Array<string | number> }>).map((d) =>
        d.loc.slice(1).join('.'),
      );
      expect(locations).toContain(field);
      const row = await h.db.project.findUniqueOrThrow({ where: { id } });
      expect({ checks: row.checks, fixAttempts: row.fixAttempts }).toEqual({ checks: [tests], fixAttempts: 1 });
    });

    it('404 for a project that does not exist (or is not a UUID)', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        const res = await request(h.app).patch(`/api/v1/projects/${id}`).send({ fix_attempts: 1 }).expect(404);
        expect(res.body).toMatchObject({ error: 'not_found', detail: 'Project not found' });
      }
    });
  });
});
