import type { IncomingMessage } from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { startHarness, type Harness } from '../test/harness';
import { createTenant, type Tenant } from '../test/tenants';
import { workspaceOf } from './workspace-dirs';

// Tenants: nobody sees or touches a project that is not theirs. Another tenant's project answers
// exactly as a project that does not exist (404), so its existence is never confirmed.

const INSTRUCTION = 'A Python CLI that prints the first 10 Fibonacci numbers';
const NO_SUCH_PROJECT = '00000000-0000-4000-8000-00000000beef';

describe("another tenant's project", () => {
  let h: Harness;
  let alice: Tenant;
  let bob: Tenant;
  let projectId: string;
  let jobId: string;

  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'api_key' });
    alice = await createTenant(h.db, 'alice');
    bob = await createTenant(h.db, 'bob');
    await request(h.app)
      .post('/api/v1/projects')
      .set(alice.auth)
      .send({ instruction: 'a project of alice' })
      .expect(202);
    const created = await request(h.app)
      .post('/api/v1/projects')
      .set(bob.auth)
      .send({ instruction: INSTRUCTION })
      .expect(202);
    projectId = created.body.id;
    jobId = created.body.job.id;
    fs.writeFileSync(path.join(workspaceOf(h.config, projectId), 'app.py'), 'print("bob")\n');
  });
  afterAll(() => h.close());

  type Call = [
    label: string,
    method: 'get' | 'post' | 'patch' | 'delete',
    path: (p: string, j: string) => string,
    body?: object,
  ];
  const reads: Call[] = [
    ['read it', 'get', (p) => `/projects/${p}`],
    ['list its jobs', 'get', (p) => `/projects/${p}/jobs`],
    ['read a job', 'get', (p, j) => `/projects/${p}/jobs/${j}`],
    ['read a job log', 'get', (p, j) => `/projects/${p}/jobs/${j}/logs`],
    ['follow a job log', 'get', (p, j) => `/projects/${p}/jobs/${j}/logs?follow=1`],
    ['list its files', 'get', (p) => `/projects/${p}/files`],
    ['read a file', 'get', (p) => `/projects/${p}/files/app.py`],
    ['read a file raw', 'get', (p) => `/projects/${p}/files/app.py?raw=1`],
    ['read it (short form)', 'get', (p) => `/${p}`],
    ['list its jobs (short form)', 'get', (p) => `/${p}/jobs`],
    ['read a job (short form)', 'get', (p, j) => `/${p}/jobs/${j}`],
    ['list its files (short form)', 'get', (p) => `/${p}/files`],
    ['read a file (short form)', 'get', (p) => `/${p}/files/app.py`],
  ];
  // Answers for the owner that depend on the job's state; only the 404 for others is checked.
  const othersOnly: Call[] = [['read a job diff', 'get', (p, j) => `/projects/${p}/jobs/${j}/diff`]];
  const writes: Call[] = [
    ['add a job', 'post', (p) => `/projects/${p}/jobs`, { job_type: 'edit', instruction: 'add a --count flag' }],
    ['add a job (short form)', 'post', (p) => `/${p}/jobs`, { job_type: 'edit', instruction: 'add a --count flag' }],
    ['cancel a job', 'post', (p, j) => `/projects/${p}/jobs/${j}/cancel`],
    ['change its checks', 'patch', (p) => `/projects/${p}`, { checks: [{ name: 'x', run: 'true' }], fix_attempts: 3 }],
    ['delete it', 'delete', (p) => `/projects/${p}`],
    ['delete it (short form)', 'delete', (p) => `/${p}`],
  ];

  const send = (who: Tenant, [, method, to, body]: Call, project = projectId) => {
    const req = request(h.app)
      [method](`/api/v1${to(project, jobId)}`)
      .set(who.auth);
    return body ? req.send(body) : req;
  };

  it.each([...reads, ...othersOnly, ...writes])(
    "%s: alice gets 404 on bob's project, as on one that does not exist",
    async (...call) => {
      const res = await send(alice, call);
      const missing = await send(alice, call, NO_SUCH_PROJECT);
      expect(res.status).toBe(404);
      expect({ ...res.body, correlation_id: undefined }).toEqual({ ...missing.body, correlation_id: undefined });
      expect(res.body.detail).toBe('Project not found');
    },
  );

  it.each(reads)('%s: bob, its owner, gets 200', async (...call) => {
    const res = await send(bob, call)
      .buffer(true)
      .parse((r, done) => {
        // A followed log streams until the job ends: the status line is all this test needs.
        r.on('data', () => (r as unknown as IncomingMessage).destroy());
        r.on('close', () => done(null, null));
        r.on('end', () => done(null, null));
      });
    expect(res.status).toBe(200);
  });

  it("alice's attempts changed nothing of bob's", async () => {
    const project = await h.db.project.findUniqueOrThrow({ where: { id: projectId }, include: { jobs: true } });
    expect(project.ownerId).toBe(bob.userId);
    expect({ checks: project.checks, fixAttempts: project.fixAttempts }).toEqual({ checks: [], fixAttempts: 0 });
    expect(project.jobs.map((j) => [j.id, j.status])).toEqual([[jobId, 'queued']]);
    expect(fs.existsSync(path.join(workspaceOf(h.config, projectId), 'app.py'))).toBe(true);
  });

  it('each tenant lists only their own projects, and the total counts only theirs', async () => {
    const ofAlice = await request(h.app).get('/api/v1/projects').set(alice.auth).expect(200);
    expect(ofAlice.body.items.map((p: { instruction: string }) => p.instruction)).toEqual(['a project of alice']);
    expect(ofAlice.body.total).toBe(1);
    const ofBob = await request(h.app).get('/api/v1/projects').set(bob.auth).expect(200);
    expect(ofBob.body.items.map((p: { id: string }) => p.id)).toEqual([projectId]);
    expect(ofBob.body.total).toBe(1);
  });

  it('bob can still edit, cancel and delete his project', async () => {
    const job = await request(h.app)
      .post(`/api/v1/projects/${projectId}/jobs`)
      .set(bob.auth)
      .send({ job_type: 'edit', instruction: 'add a --count flag' })
      .expect(202);
    await request(h.app).post(`/api/v1/projects/${projectId}/jobs/${job.body.id}/cancel`).set(bob.auth).expect(200);
    await request(h.app).delete(`/api/v1/projects/${projectId}`).set(bob.auth).expect(204);
    expect(await h.db.project.findUnique({ where: { id: projectId } })).toBeNull();
  });
});
