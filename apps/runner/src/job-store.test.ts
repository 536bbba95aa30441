import type { Db } from '@cwo/db';
import { createProject, testConfig, testDb } from './__tests__/helpers';
import { finishJob, jobContext, loadJob, markInProgress } from './job-store';
import { outcomeWithoutRun, type JobOutcome } from './outcome';

// What the runner keeps of a job's agent run in Postgres: usage, thread, commit; and which thread
// the project's next job continues.

let db: Db;
beforeAll(() => {
  db = testDb();
});
afterAll(() => db.$disconnect());

const outcome = (extra: Partial<JobOutcome> = {}): Omit<JobOutcome, 'attempt'> => ({
  ...outcomeWithoutRun('completed', 'done', []),
  ...extra,
});

async function runJob(jobId: string, extra: Partial<JobOutcome>): Promise<void> {
  const job = (await loadJob(db, jobId))!;
  const started = await markInProgress(db, job);
  expect(await finishJob(db, job, started!.attempt, outcome(extra))).toBe(true);
}

it('stores the usage, thread and commit of a finished job', async () => {
  const { jobId } = await createProject(db, testConfig());
  await runJob(jobId, {
    usage: { input_tokens: 3000, cached_input_tokens: 600, output_tokens: 150 },
    thread_id: '019a2b3c-0000-7000-8000-000000000001',
    commit_sha: 'a'.repeat(40),
  });
  expect(await db.job.findUnique({ where: { id: jobId } })).toMatchObject({
    inputTokens: 3000,
    cachedInputTokens: 600,
    outputTokens: 150,
    threadId: '019a2b3c-0000-7000-8000-000000000001',
    commitSha: 'a'.repeat(40),
  });
});

it('continues the latest thread among the earlier jobs, skipping jobs that have none', async () => {
  const { projectId, jobId } = await createProject(db, testConfig());
  const add = async () => (await db.job.create({ data: { projectId, jobType: 'edit', instruction: 'x' } })).id;
  const [second, third, fourth] = [await add(), await add(), await add()];
  expect((await jobContext(db, (await loadJob(db, jobId))!)).threadId).toBeUndefined();

  await runJob(jobId, { thread_id: 'thread-old' });
  await runJob(second, { thread_id: 'thread-new' });
  await runJob(third, { status: 'error', errors: ['forced_error'] }); // no thread

  expect((await jobContext(db, (await loadJob(db, fourth))!)).threadId).toBe('thread-new');
  // Only earlier jobs count, not later ones.
  expect((await jobContext(db, (await loadJob(db, second))!)).threadId).toBe('thread-old');
});
