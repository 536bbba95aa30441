// Runners that die or stop mid-job, and a job that never reached Redis: the work is finished by
// another runner, once. DUMMY_WORKER_DELAY_MS (a test-only setting) makes a runner's dummy agent
// wait before it works, so that its job is observably running when the runner is stopped.
import type { ApiClient } from './helpers/api-client';
import { eventually, sleep, Stack, type SystemProcess } from './helpers/stack';

const SLOW = { DUMMY_WORKER_DELAY_MS: '60000' };
const FAST = { DUMMY_WORKER_DELAY_MS: '0' };

describe('recovery across runner processes', () => {
  let stack: Stack;
  let api: ApiClient;
  let projectId: string;

  beforeAll(async () => {
    stack = await Stack.create('recovery');
    api = await stack.startApi();
    const first = await stack.startRunner('runner-initial', FAST);
    const project = await api.createProject('A Python CLI that prints Fibonacci numbers');
    projectId = project.id;
    await api.waitForJob(projectId, project.job.id);
    expect((await first.stop()).code).toBe(0);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const logOf = async (jobId: string) => (await api.get(`/api/v1/projects/${projectId}/jobs/${jobId}/logs`)).text;
  const runnerIdOf = (proc: SystemProcess) => new RegExp(`:${proc.pid}:`);

  /** Posts an edit and waits until a runner is inside the (slow) agent with it. */
  async function editRunningSlowly(instruction: string): Promise<string> {
    const job = await api.addJob(projectId, instruction);
    await api.waitForJob(projectId, job.id, 30_000, 'in_progress');
    await eventually('the agent to be running', async () => /dummy executor: waiting/.test(await logOf(job.id)));
    return job.id;
  }

  it('a runner killed with SIGKILL mid-job: the job completes on another runner, exactly once', async () => {
    const doomed = await stack.startRunner('runner-killed', SLOW);
    const jobId = await editRunningSlowly('edit that survives a crash');

    doomed.kill('SIGKILL');
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const rescuer = await stack.startRunner('runner-rescuer', FAST);

    const job = await api.waitForJob(projectId, jobId, 60_000);
    expect(job).toMatchObject({ status: 'completed', attempts: 2, modified_files: ['app.py'] });
    const log = await logOf(jobId);
    const attempts = log.split('\n').filter((l) => /\[runner\] attempt \d of job/.test(l));
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatch(runnerIdOf(doomed));
    expect(attempts[1]).toMatch(runnerIdOf(rescuer));
    expect(log.match(/\[runner\] finished: /g)).toHaveLength(1);
    const app = (await api.get(`/api/v1/${projectId}/files/app.py`)).body.contents as string;
    expect(app.match(/# Edit: edit that survives a crash/g)).toHaveLength(1);
    expect((await rescuer.stop()).code).toBe(0);
  });

  it('a runner frozen (SIGSTOP) past the project lock’s TTL while another takes its job over: when it wakes (SIGCONT) it changes nothing, and the edit is applied once', async () => {
    // Its agent waits 3 s before it edits: the freeze comes during that wait, and outlasts it.
    const frozen = await stack.startRunner('runner-frozen', { DUMMY_WORKER_DELAY_MS: '3000' });
    const jobId = await editRunningSlowly('edit that survives a freeze');
    frozen.kill('SIGSTOP');
    let awake: SystemProcess | undefined;
    try {
      awake = await stack.startRunner('runner-awake', FAST);
      // Its job lock (STALLED_CHECK_SECONDS) and project lock (PROJECT_LOCK_TTL_SECONDS) run out;
      // the other runner takes the job over and completes it.
      const job = await api.waitForJob(projectId, jobId, 60_000);
      expect(job).toMatchObject({ status: 'completed', attempts: 2, modified_files: ['app.py'] });
    } finally {
      frozen.kill('SIGCONT');
    }
    // On waking, every due timer fires at once: its agent's wait is over before any renewal of its
    // lock can say the lock is gone. It must not start the agent.
    await eventually('the woken runner to end its attempt', async () =>
      /attempt 1 failed: the project lock was lost/.test(await logOf(jobId)),
    );
    await sleep(500);
    const app = (await api.get(`/api/v1/${projectId}/files/app.py`)).body.contents as string;
    expect(app.match(/# Edit: edit that survives a freeze/g)).toHaveLength(1);
    const log = await logOf(jobId);
    const attempts = log.split('\n').filter((l) => /\[runner\] attempt \d of job/.test(l));
    expect(attempts[0]).toMatch(runnerIdOf(frozen));
    expect(attempts[1]).toMatch(runnerIdOf(awake));
    expect(log.match(/\[runner\] finished: /g)).toHaveLength(1);
    expect(await api.waitForJob(projectId, jobId)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(frozen.running).toBe(true); // woken, not dead
    expect((await frozen.stop()).code).toBe(0);
    expect((await awake.stop()).code).toBe(0);
  });

  it('a runner stopped with SIGTERM mid-job: it exits 0 after the grace period, and the job runs again elsewhere', async () => {
    const leaving = await stack.startRunner('runner-leaving', { ...SLOW, SHUTDOWN_GRACE_SECONDS: '1' });
    const jobId = await editRunningSlowly('edit handed over at shutdown');
    const staying = await stack.startRunner('runner-staying', FAST);

    leaving.kill('SIGTERM');
    expect(await leaving.exited).toEqual({ code: 0, signal: null });

    const job = await api.waitForJob(projectId, jobId, 60_000);
    expect(job).toMatchObject({ status: 'completed', attempts: 2, modified_files: ['app.py'] });
    const log = await logOf(jobId);
    expect(log).toMatch(/shutting down: the job goes back to the queue/);
    expect(log).toMatch(new RegExp(`attempt 2 of job \\S+ \\(edit\\) started on runner \\S*:${staying.pid}:`));
  });

  it('a job written to Postgres while Redis was down (never enqueued) is picked up by the reconciler', async () => {
    // What the API leaves behind when its enqueue fails: the rows, and nothing in Redis.
    const job = await stack.db.job.create({
      data: { projectId, jobType: 'edit', instruction: 'edit that missed the queue' },
    });
    const done = await api.waitForJob(projectId, job.id, 30_000);
    expect(done).toMatchObject({ status: 'completed', attempts: 1, modified_files: ['app.py'] });
    const app = (await api.get(`/api/v1/${projectId}/files/app.py`)).body.contents as string;
    expect(app).toMatch(/# Edit: edit that missed the queue\n$/);
  });
});
