import fs from 'node:fs';
import request from 'supertest';
import { cancelChannel } from '@cwo/contracts';
import { projectWorkspace } from '@cwo/workspace';
import { Redis } from 'ioredis';
import { startHarness, type Harness } from '../../test/harness';

const INSTRUCTION =
  'Generate a minimal Python CLI project that prints the first 10 Fibonacci numbers and includes a basic test.';

describe('projects API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const api = (path: string) => `/api/v1${path}`;

  describe('POST /projects', () => {
    it('answers 202 at once with the queued project and its initial job, with no runner running', async () => {
      const res = await request(h.app)
        .post(api('/projects'))
        .send({ instruction: `  ${INSTRUCTION}  ` })
        .expect(202);
      expect(res.body).toMatchObject({
        instruction: INSTRUCTION,
        status: 'queued',
        summary: null,
        workspace_path: projectWorkspace(h.config.workspaceRoot, res.body.id),
        job: {
          project_id: res.body.id,
          job_type: 'initial_project',
          instruction: INSTRUCTION,
          status: 'queued',
          attempts: 0,
        },
      });
      // The rows are in Postgres, the workspace exists, and BullMQ holds {jobId} under the DB job id.
      const job = await h.db.job.findUniqueOrThrow({ where: { id: res.body.job.id } });
      expect(job.status).toBe('queued');
      expect(fs.statSync(res.body.workspace_path).isDirectory()).toBe(true);
      const queued = await h.queue.getJob(res.body.job.id);
      expect(queued?.id).toBe(res.body.job.id);
      expect(queued?.data).toEqual({ jobId: res.body.job.id });
      expect(await queued?.getState()).toBe('waiting');
    });

    it('accepts the trailing-slash form (POST /projects/)', async () => {
      const res = await request(h.app).post(api('/projects/')).send({ instruction: INSTRUCTION }).expect(202);
      expect(res.body.status).toBe('queued');
    });

    // The instruction rule (docs/http-api.md, "Validation"): 422 for short, too long, empty; success for valid.
    it.each([
      ['too short', { instruction: 'abc' }, 'string_too_short', 'String should have at least 5 characters'],
      ['too long', { instruction: 'x'.repeat(2001) }, 'string_too_long', 'String should have at most 2000 characters'],
      ['empty', { instruction: '' }, 'value_error', 'Value error, instruction must not be empty'],
      ['whitespace only', { instruction: '      ' }, 'value_error', 'Value error, instruction must not be empty'],
      ['missing', {}, 'missing', 'Field required'],
      ['not a string', { instruction: 42 }, 'string_type', 'Input should be a valid string'],
    ])('422 when the instruction is %s', async (_label, body, type, msg) => {
      const res = await request(h.app).post(api('/projects')).send(body).expect(422);
      expect(res.body).toEqual({
        error: 'validation_error',
        message: 'Validation failed',
        code: 422,
        detail: [{ loc: ['body', 'instruction'], msg, type }],
        correlation_id: res.headers['x-request-id'],
      });
    });

    it('counts length after trimming (5 characters padded with spaces pass, 4 do not)', async () => {
      await request(h.app).post(api('/projects')).send({ instruction: '   abcde   ' }).expect(202);
      await request(h.app).post(api('/projects')).send({ instruction: '   abcd   ' }).expect(422);
    });

    it('422 when the body is not an object, or absent', async () => {
      const array = await request(h.app).post(api('/projects')).send([1, 2]).expect(422);
      expect(array.body.detail).toEqual([
        {
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          type: 'model_attributes_type',
        },
      ]);
      const none = await request(h.app).post(api('/projects')).expect(422);
      expect(none.body.detail).toEqual([{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
    });
  });

  describe('GET /projects', () => {
    it('lists newest first, paginated, with the total', async () => {
      const created: string[] = [];
      for (const n of [1, 2, 3]) {
        const res = await request(h.app)
          .post(api('/projects'))
          .send({ instruction: `listing project ${n}` })
          .expect(202);
        created.push(res.body.id);
      }
      const first = await request(h.app).get(api('/projects?limit=2')).expect(200);
      expect(first.body.limit).toBe(2);
      expect(first.body.offset).toBe(0);
      expect(first.body.items.map((p: { id: string }) => p.id)).toEqual([created[2], created[1]]);
      const second = await request(h.app).get(api('/projects?limit=2&offset=2')).expect(200);
      expect(second.body.items[0].id).toBe(created[0]);
      expect(second.body.total).toBe(first.body.total);
      expect(first.body.total).toBeGreaterThanOrEqual(3);
    });

    it('422 for a bad page size, with pydantic-like types', async () => {
      const res = await request(h.app).get(api('/projects?limit=0&offset=abc')).expect(422);
      expect(res.body.detail).toEqual([
        { loc: ['query', 'limit'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal' },
        {
          loc: ['query', 'offset'],
          msg: 'Input should be a valid integer, unable to parse string as an integer',
          type: 'int_parsing',
        },
      ]);
      await request(h.app).get(api('/projects?limit=101')).expect(422);
    });
  });

  describe('GET /projects/{id}', () => {
    it('returns the project with its jobs in creation order', async () => {
      const created = await request(h.app).post(api('/projects')).send({ instruction: INSTRUCTION }).expect(202);
      const id = created.body.id;
      const edits: string[] = [];
      for (const n of [1, 2]) {
        const job = await request(h.app)
          .post(api(`/projects/${id}/jobs`))
          .send({ job_type: 'edit', instruction: `edit ${n}` })
          .expect(202);
        edits.push(job.body.id);
      }
      const res = await request(h.app)
        .get(api(`/projects/${id}`))
        .expect(200);
      expect(res.body.id).toBe(id);
      expect(res.body.jobs.map((j: { id: string }) => j.id)).toEqual([created.body.job.id, ...edits]);
      expect(res.body.jobs[0].job_type).toBe('initial_project');
    });

    it('404 "Project not found" for an unknown id and for an id that is not a uuid', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '1']) {
        const res = await request(h.app)
          .get(api(`/projects/${id}`))
          .expect(404);
        expect(res.body).toMatchObject({
          error: 'not_found',
          message: 'Not found',
          code: 404,
          detail: 'Project not found',
        });
      }
    });
  });

  describe('DELETE /projects/{id}', () => {
    it('cancels its jobs, tells runners to stop running ones, removes the workspace and the rows', async () => {
      const created = await request(h.app).post(api('/projects')).send({ instruction: INSTRUCTION }).expect(202);
      const id: string = created.body.id;
      const queuedEdit = await request(h.app)
        .post(api(`/projects/${id}/jobs`))
        .send({ job_type: 'edit', instruction: 'an edit' })
        .expect(202);
      // Simulate a runner that has started the initial job.
      await h.db.job.update({
        where: { id: created.body.job.id },
        data: { status: 'in_progress', startedAt: new Date() },
      });
      fs.writeFileSync(`${created.body.workspace_path}/app.py`, 'print(1)\n');

      const subscriber = new Redis(h.config.REDIS_URL);
      const messages: string[] = [];
      await subscriber.subscribe(cancelChannel(h.config.QUEUE_PREFIX));
      subscriber.on('message', (_channel, message: string) => messages.push(message));
      try {
        await request(h.app)
          .delete(api(`/projects/${id}`))
          .expect(204);
        await waitFor(() => messages.length > 0);
      } finally {
        subscriber.disconnect();
      }

      expect(messages).toEqual([created.body.job.id]);
      expect(await h.db.project.findUnique({ where: { id } })).toBeNull();
      expect(await h.db.job.count({ where: { projectId: id } })).toBe(0);
      expect(fs.existsSync(created.body.workspace_path)).toBe(false);
      expect(await h.queue.getJob(queuedEdit.body.id)).toBeUndefined();
      await request(h.app)
        .get(api(`/projects/${id}`))
        .expect(404);
      await request(h.app)
        .delete(api(`/projects/${id}`))
        .expect(404);
    });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
