import request from 'supertest';
import { cancelChannel } from '@cwo/contracts';
import { finishJob, startJob } from '@cwo/jobs';
import { Redis } from 'ioredis';
import { startHarness, type Harness } from '../../test/harness';

describe('jobs API', () => {
  let h: Harness;
  let projectId: string;
  let initialJobId: string;
  beforeAll(async () => {
    h = await startHarness();
    const res = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'a project for job tests' })
      .expect(202);
    projectId = res.body.id;
    initialJobId = res.body.job.id;
  });
  afterAll(() => h.close());

  const newEdit = async (instruction = 'Append a comment line to app.py describing the change.') =>
    (
      await request(h.app)
        .post(`/api/v1/projects/${projectId}/jobs`)
        .send({ job_type: 'edit', instruction })
        .expect(202)
    ).body;

  describe('POST jobs', () => {
    it('answers 202 with the queued job, enqueued under its DB id (canonical and short form)', async () => {
      const canonical = await newEdit();
      expect(canonical).toMatchObject({ project_id: projectId, job_type: 'edit', status: 'queued', started_at: null });
      const short = await request(h.app)
        .post(`/api/v1/${projectId}/jobs`)
        .send({ job_type: 'edit', instruction: '  trimmed  ' })
        .expect(202);
      expect(short.body.instruction).toBe('trimmed');
      for (const id of [canonical.id, short.body.id]) {
        const queued = await h.queue.getJob(id);
        expect(queued?.data).toEqual({ jobId: id });
      }
    });

    it('409 for a second initial_project job: a project has exactly one, made with it', async () => {
      const before = await request(h.app).get(`/api/v1/projects/${projectId}/jobs`).expect(200);
      const res = await request(h.app)
        .post(`/api/v1/projects/${projectId}/jobs`)
        .send({ job_type: 'initial_project', instruction: 'start over' })
        .expect(409);
      expect(res.body).toEqual({
        error: 'conflict',
        message: 'Conflict',
        code: 409,
        detail: `This project already has its initial job (${initialJobId}); a project has exactly one. Send job_type "edit" to change its workspace, or create a new project.`,
        correlation_id: res.headers['x-request-id'],
      });
      const after = await request(h.app).get(`/api/v1/projects/${projectId}/jobs`).expect(200);
      expect(after.body.items).toHaveLength(before.body.items.length);
    });

    it.each([
      [
        'an invalid job_type',
        { job_type: 'rewrite', instruction: 'x' },
        'job_type',
        'enum',
        "Input should be 'initial_project' or 'edit'",
      ],
      ['no job_type', { instruction: 'x' }, 'job_type', 'missing', 'Field required'],
      [
        'an empty instruction',
        { job_type: 'edit', instruction: '' },
        'instruction',
        'value_error',
        'Value error, instruction must not be empty',
      ],
      [
        'a whitespace instruction',
        { job_type: 'edit', instruction: ' \n\t ' },
        'instruction',
        'value_error',
        'Value error, instruction must not be empty',
      ],
      [
        'a too long instruction',
        { job_type: 'edit', instruction: 'y'.repeat(2001) },
        'instruction',
        'string_too_long',
        'String should have at most 2000 characters',
      ],
    ])('422 for %s', async (_label, body, field, type, msg) => {
      const res = await request(h.app).post(`/api/v1/projects/${projectId}/jobs`).send(body).expect(422);
      expect(res.body).toMatchObject({
        error: 'validation_error',
        code: 422,
        detail: [{ loc: ['body', field], type, msg }],
      });
    });

    it('accepts a one-character instruction (jobs allow 1, projects 5)', async () => {
      await request(h.app)
        .post(`/api/v1/projects/${projectId}/jobs`)
        .send({ job_type: 'edit', instruction: 'z' })
        .expect(202);
    });

    it('404 for an unknown project', async () => {
      const res = await request(h.app)
        .post('/api/v1/projects/00000000-0000-4000-8000-000000000000/jobs')
        .send({ job_type: 'edit', instruction: 'x' })
        .expect(404);
      expect(res.body.detail).toBe('Project not found');
    });

    it('puts a finished project back to queued', async () => {
      await h.db.project.update({ where: { id: projectId }, data: { status: 'completed' } });
      await h.db.job.updateMany({ where: { projectId }, data: { status: 'completed' } });
      await newEdit();
      const project = await request(h.app).get(`/api/v1/projects/${projectId}`).expect(200);
      expect(project.body.status).toBe('queued');
    });
  });

  describe('GET jobs', () => {
    it('lists the jobs in creation order, on both paths', async () => {
      const canonical = await request(h.app).get(`/api/v1/projects/${projectId}/jobs`).expect(200);
      const short = await request(h.app).get(`/api/v1/${projectId}/jobs`).expect(200);
      expect(canonical.body.items[0].id).toBe(initialJobId);
      expect(short.body).toEqual(canonical.body);
      const created = canonical.body.items.map((j: { created_at: string }) => j.created_at);
      expect([...created].sort()).toEqual(created);
    });

    it('shows a job with its result and duration', async () => {
      const job = await newEdit();
      await h.db.job.update({
        where: { id: job.id },
        data: {
          status: 'completed',
          summary: 'Added a comment',
          modifiedFiles: ['app.py'],
          startedAt: new Date('2026-01-01T10:00:00Z'),
          finishedAt: new Date('2026-01-01T10:00:02.500Z'),
          attempts: 1,
        },
      });
      const res = await request(h.app).get(`/api/v1/projects/${projectId}/jobs/${job.id}`).expect(200);
      expect(res.body).toMatchObject({
        id: job.id,
        status: 'completed',
        summary: 'Added a comment',
        created_files: [],
        modified_files: ['app.py'],
        deleted_files: [],
        errors: [],
        attempts: 1,
        started_at: '2026-01-01T10:00:00.000Z',
        finished_at: '2026-01-01T10:00:02.500Z',
        duration_seconds: 2.5,
        error_code: null,
        queue_position: null,
      });
      const short = await request(h.app).get(`/api/v1/${projectId}/jobs/${job.id}`).expect(200);
      expect(short.body).toEqual(res.body);
    });

    it('404 for a job of another project, an unknown job and a malformed job id', async () => {
      const other = await request(h.app).post('/api/v1/projects').send({ instruction: 'another project' }).expect(202);
      for (const path of [
        `/api/v1/projects/${projectId}/jobs/${other.body.job.id}`,
        `/api/v1/projects/${projectId}/jobs/00000000-0000-4000-8000-000000000000`,
        `/api/v1/projects/${projectId}/jobs/nope`,
      ]) {
        const res = await request(h.app).get(path).expect(404);
        expect(res.body.detail).toBe('Job not found');
      }
    });
  });

  describe('queue_position and error_code', () => {
    const detail = async (project: string, job: string) =>
      (await request(h.app).get(`/api/v1/projects/${project}/jobs/${job}`).expect(200)).body as {
        status: string;
        error_code: string | null;
        queue_position: { in_project: number; overall: number } | null;
      };
    /** What a runner does at the end of a job it started: the outcome, with `status`. */
    const finish = (jobId: string, attempt: number, status: 'completed' | 'error') =>
      finishJob(h.db, jobId, attempt, {
        status,
        summary: null,
        errors: status === 'error' ? ['forced_error'] : [],
        created_files: [],
        modified_files: [],
        deleted_files: [],
        result_path: null,
        usage: null,
        thread_id: null,
        commit_sha: null,
        error_code: status === 'error' ? 'forced_error' : null,
      });
    const start = async (jobId: string) => {
      const started = await startJob(h.db, jobId);
      if (started.kind !== 'started') throw new Error(`job ${jobId} did not start`);
      return started.attempt;
    };
    const run = async (jobId: string, status: 'completed' | 'error') => finish(jobId, await start(jobId), status);

    it('counts down while the jobs before a queued one finish, in its project and overall', async () => {
      const project = await request(h.app).post('/api/v1/projects').send({ instruction: 'a queue to wait in' });
      const pid = project.body.id as string;
      const first = project.body.job.id as string;
      const add = async () =>
        (await request(h.app).post(`/api/v1/projects/${pid}/jobs`).send({ job_type: 'edit', instruction: 'x' })).body
          .id as string;
      const second = await add();
      const third = await add();

      const before = (await detail(pid, third)).queue_position!;
      expect(before.in_project).toBe(2);
      expect(before.overall).toBeGreaterThanOrEqual(2);
      expect((await detail(pid, first)).queue_position).toEqual({ in_project: 0, overall: before.overall - 2 });

      // A job of another project created later waits behind all three.
      const later = await request(h.app).post('/api/v1/projects').send({ instruction: 'a later project' });
      expect((await detail(later.body.id, later.body.job.id)).queue_position).toEqual({
        in_project: 0,
        overall: before.overall + 1,
      });

      // The first runs: no longer queued, still ahead of the others until it finishes.
      const attempt = await start(first);
      expect((await detail(pid, first)).queue_position).toBeNull();
      expect((await detail(pid, third)).queue_position).toEqual(before);
      await finish(first, attempt, 'completed');
      expect((await detail(pid, third)).queue_position).toEqual({ in_project: 1, overall: before.overall - 1 });

      // The second is cancelled: the third is next in its project.
      await request(h.app).post(`/api/v1/projects/${pid}/jobs/${second}/cancel`).expect(200);
      expect((await detail(pid, third)).queue_position).toEqual({ in_project: 0, overall: before.overall - 2 });
      expect((await detail(later.body.id, later.body.job.id)).queue_position).toEqual({
        in_project: 0,
        overall: before.overall - 1,
      });
    });

    it('says how each job ended: null when completed, the code otherwise, in the detail and in the lists', async () => {
      const project = await request(h.app).post('/api/v1/projects').send({ instruction: 'codes for each end' });
      const pid = project.body.id as string;
      const ok = project.body.job.id as string;
      const add = async () =>
        (await request(h.app).post(`/api/v1/projects/${pid}/jobs`).send({ job_type: 'edit', instruction: 'y' })).body
          .id as string;
      const failed = await add();
      const cancelled = await add();
      expect((await detail(pid, ok)).error_code).toBeNull();

      await run(ok, 'completed');
      await run(failed, 'error');
      const cancel = await request(h.app).post(`/api/v1/projects/${pid}/jobs/${cancelled}/cancel`).expect(200);
      expect(cancel.body).toMatchObject({ status: 'cancelled', error_code: 'cancelled' });

      expect(await detail(pid, ok)).toMatchObject({ status: 'completed', error_code: null });
      expect(await detail(pid, failed)).toMatchObject({ status: 'error', error_code: 'forced_error' });
      const list = await request(h.app).get(`/api/v1/projects/${pid}/jobs`).expect(200);
      expect(list.body.items.map((j: { error_code: string | null }) => j.error_code)).toEqual([
        null,
        'forced_error',
        'cancelled',
      ]);
      const inProject = await request(h.app).get(`/api/v1/projects/${pid}`).expect(200);
      expect(inProject.body.jobs.map((j: { error_code: string | null }) => j.error_code)).toEqual([
        null,
        'forced_error',
        'cancelled',
      ]);
    });
  });

  describe('POST …/cancel', () => {
    it('cancels a queued job at once and takes it off the queue', async () => {
      const fresh = await request(h.app).post('/api/v1/projects').send({ instruction: 'cancel me please' }).expect(202);
      const res = await request(h.app)
        .post(`/api/v1/projects/${fresh.body.id}/jobs/${fresh.body.job.id}/cancel`)
        .expect(200);
      expect(res.body.status).toBe('cancelled');
      expect(res.body.finished_at).not.toBeNull();
      expect(await h.queue.getJob(fresh.body.job.id)).toBeUndefined();
      const project = await request(h.app).get(`/api/v1/projects/${fresh.body.id}`).expect(200);
      expect(project.body.status).toBe('cancelled');
    });

    it('asks the runner to stop a running job: 202, cancel_requested_at set, job id published', async () => {
      const job = await newEdit();
      await h.db.job.update({ where: { id: job.id }, data: { status: 'in_progress', startedAt: new Date() } });
      const subscriber = new Redis(h.config.REDIS_URL);
      const messages: string[] = [];
      await subscriber.subscribe(cancelChannel(h.config.QUEUE_PREFIX));
      subscriber.on('message', (_c, m: string) => messages.push(m));
      try {
        const res = await request(h.app).post(`/api/v1/projects/${projectId}/jobs/${job.id}/cancel`).expect(202);
        expect(res.body.status).toBe('in_progress');
        const deadline = Date.now() + 5000;
        while (messages.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      } finally {
        subscriber.disconnect();
      }
      expect(messages).toEqual([job.id]);
      const row = await h.db.job.findUniqueOrThrow({ where: { id: job.id } });
      expect(row.cancelRequestedAt).not.toBeNull();
      expect(row.status).toBe('in_progress'); // the runner writes the outcome
    });

    it('409 for a finished job', async () => {
      const job = await newEdit();
      await h.db.job.update({ where: { id: job.id }, data: { status: 'completed', finishedAt: new Date() } });
      const res = await request(h.app).post(`/api/v1/projects/${projectId}/jobs/${job.id}/cancel`).expect(409);
      expect(res.body).toMatchObject({ error: 'conflict', message: 'Conflict', code: 409 });
      expect(res.body.detail).toContain('already finished');
    });
  });
});
