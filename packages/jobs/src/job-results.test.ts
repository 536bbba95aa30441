import type { Db } from '@cwo/db';
import { finishJob, finishJobFindingNext, startJob } from './run';
import { jobContext, loadJob, recordedWorkspaceOf } from './runner-queries';
import { newProject, OWNER, outcome as baseOutcome, testDb } from './__tests__/fixtures';
import { createJob } from './create';
import type { JobOutcome } from './run';

// What the runner keeps of a job's agent run in Postgres: usage, thread, commit; and which thread
// the project's next job continues. (Moved from apps/runner's job-store tests.)

let db: Db;
beforeAll(() => {
  db = testDb();
});
afterAll(() => db.$disconnect());

const outcome = (extra: Partial<JobOutcome> = {}): JobOutcome => baseOutcome({ summary: 'done', ...extra });

async function runJob(jobId: string, extra: Partial<JobOutcome>): Promise<void> {
  const started = await startJob(db, jobId);
  if (started.kind !== 'started') throw new Error('not started');
  expect(await finishJob(db, jobId, started.attempt, outcome(extra))).toBe('finished');
}

it('stores the usage, thread and commit of a finished job', async () => {
  const { jobIds } = await newProject(db);
  const jobId = jobIds[0]!;
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
  const { projectId, jobIds } = await newProject(db);
  const jobId = jobIds[0]!;
  const add = async () => {
    const created = await createJob(db, OWNER, projectId, { job_type: 'edit', instruction: 'x' }, 0);
    if (created.kind !== 'created') throw new Error(created.kind);
    return created.job.id;
  };
  const [second, third, fourth] = [await add(), await add(), await add()];
  expect((await jobContext(db, (await loadJob(db, jobId))!)).threadId).toBeUndefined();

  await runJob(jobId, { thread_id: 'thread-old' });
  await runJob(second, { thread_id: 'thread-new' });
  await runJob(third, { status: 'error', errors: ['forced_error'] }); // no thread

  expect((await jobContext(db, (await loadJob(db, fourth))!)).threadId).toBe('thread-new');
  // Only earlier jobs count, not later ones.
  expect((await jobContext(db, (await loadJob(db, second))!)).threadId).toBe('thread-old');
});

it('names the commit the workspace should be at when a job starts: skipping errors without one, unknown after a commitless change', async () => {
  const { jobIds } = await newProject(db, 5);
  const [initial, edit1, edit2, edit3, edit4, edit5] = jobIds as [string, string, string, string, string, string];
  const recorded = async (jobId: string) => recordedWorkspaceOf(db, (await loadJob(db, jobId))!);
  expect(await recorded(initial)).toEqual({ kind: 'empty' });

  // The initial job ended in error without a commit (an infrastructure failure): nothing is kept.
  await runJob(initial, { status: 'error', errors: ['infrastructure error: x'], modified_files: ['app.py'] });
  expect(await recorded(edit1)).toEqual({ kind: 'empty' });

  await runJob(edit1, { created_files: ['app.py'], commit_sha: 'b'.repeat(40) });
  expect(await recorded(edit2)).toEqual({ kind: 'commit', sha: 'b'.repeat(40), jobId: edit1 });
  // A job that changed nothing, and one that ended in error without a commit, change nothing.
  await runJob(edit2, {});
  await runJob(edit3, { status: 'error', errors: ['the workspace disk is full'], modified_files: ['app.py'] });
  expect(await recorded(edit4)).toEqual({ kind: 'commit', sha: 'b'.repeat(40), jobId: edit1 });

  // A completed job whose changes have no commit: the history does not hold the workspace.
  await runJob(edit4, { modified_files: ['app.py'] });
  expect(await recorded(edit5)).toEqual({ kind: 'unknown', jobId: edit4 });
});

it('reads what a job starts from with the job itself when it is its turn, the same as the separate reads', async () => {
  const { jobIds } = await newProject(db, 3);
  const [initial, edit1, edit2, edit3] = jobIds as [string, string, string, string];
  // Not its turn (an earlier job unfinished): nothing is read ahead.
  expect((await loadJob(db, edit1))!.startContext).toBeNull();

  const separately = async (jobId: string) => {
    const job = (await loadJob(db, jobId))!;
    const { history, threadId } = await jobContext(db, job);
    return { history, threadId, recorded: await recordedWorkspaceOf(db, job) };
  };
  const first = (await loadJob(db, initial))!;
  expect(first.startContext).toEqual({ history: [], threadId: undefined, recorded: { kind: 'empty' } });
  expect(first.startContext).toEqual(await separately(initial));

  await runJob(initial, { created_files: ['app.py'], commit_sha: 'c'.repeat(40), thread_id: 'thread-1' });
  await runJob(edit1, { status: 'error', errors: ['forced_error'] });
  const third = (await loadJob(db, edit2))!;
  expect(third.startContext).toEqual(await separately(edit2));
  expect(third.startContext).toMatchObject({
    threadId: 'thread-1',
    recorded: { kind: 'commit', sha: 'c'.repeat(40), jobId: initial },
    history: [
      { job_id: initial, status: 'completed' },
      { job_id: edit1, status: 'error' },
    ],
  });

  // The project's next queued job is named by the finish that makes it the next to run.
  const started = await startJob(db, edit2);
  if (started.kind !== 'started') throw new Error('not started');
  expect(await finishJobFindingNext(db, edit2, started.attempt, outcome())).toEqual({
    written: 'finished',
    nextQueuedId: edit3,
  });
  expect(await finishJobFindingNext(db, edit2, started.attempt, outcome())).toEqual({
    written: 'superseded',
    nextQueuedId: null,
  });
  const last = await startJob(db, edit3);
  if (last.kind !== 'started') throw new Error('not started');
  expect((await finishJobFindingNext(db, edit3, last.attempt, outcome())).nextQueuedId).toBeNull();

  // Finished (or cancel requested): nothing to start from.
  expect((await loadJob(db, edit3))!.startContext).toBeNull();
});
