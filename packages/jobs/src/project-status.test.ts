import fc from 'fast-check';
import { STATUSES, type Status } from '@cwo/contracts';
import type { Db } from '@cwo/db';
import { cancelJob } from './cancel';
import { createJob } from './create';
import { cancelUnstartedJob, finishJob, giveUpJob, giveUpWithOutcome, requeueJob, startJob } from './run';
import { newProject, OWNER, outcome, projectStatus, setJob, testDb } from './__tests__/fixtures';

// The project's status for every mix of its jobs' states (property-based, against the real
// Postgres): the one derivation, and every transition going through it.

let db: Db;
beforeAll(() => {
  db = testDb();
});
afterAll(() => db.$disconnect());

/** The rule, as the README states it, over the jobs in creation order. */
function expectedStatus(jobs: Status[]): Status {
  if (jobs.includes('in_progress')) return 'in_progress';
  if (jobs.includes('queued')) return 'queued';
  return jobs.filter((s) => s !== 'cancelled').at(-1) ?? 'cancelled';
}

async function jobStatuses(projectId: string): Promise<Status[]> {
  const jobs = await db.job.findMany({ where: { projectId }, orderBy: { seq: 'asc' }, select: { status: true } });
  return jobs.map((j) => j.status);
}

it('is derived by the rule for every mix of job states', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...STATUSES), { minLength: 1, maxLength: 6 }), async (statuses) => {
      const { projectId, jobIds } = await newProject(db, statuses.length - 1);
      for (const [i, status] of statuses.entries()) await setJob(db, jobIds[i]!, { status });
      await db.$queryRawUnsafe('SELECT refresh_project_status($1::uuid)', projectId);
      expect(await projectStatus(db, projectId)).toBe(expectedStatus(statuses));
    }),
    { numRuns: 60 },
  );
});

type Step =
  | { op: 'create' }
  | { op: 'start' | 'requeue' | 'cancel' | 'give_up' | 'cancel_unstarted'; job: number }
  | { op: 'finish' | 'give_up_recorded'; job: number; status: 'completed' | 'error' | 'cancelled' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ op: 'create' as const }),
  fc.record({
    op: fc.constantFrom(
      'start' as const,
      'requeue' as const,
      'cancel' as const,
      'give_up' as const,
      'cancel_unstarted' as const,
    ),
    job: fc.nat(4),
  }),
  fc.record({
    op: fc.constantFrom('finish' as const, 'give_up_recorded' as const),
    job: fc.nat(4),
    status: fc.constantFrom('completed' as const, 'error' as const, 'cancelled' as const),
  }),
);

it('follows its jobs through any sequence of transitions (refused ones included)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
      const { projectId, jobIds } = await newProject(db);
      for (const s of steps) {
        if (s.op === 'create') {
          const created = await createJob(db, OWNER, projectId, { job_type: 'edit', instruction: 'x' }, 0);
          if (created.kind === 'created') jobIds.push(created.job.id);
        } else {
          const jobId = jobIds[s.job % jobIds.length]!;
          const { attempts, status } = await db.job.findUniqueOrThrow({ where: { id: jobId } });
          if (s.op === 'start') await startJob(db, jobId);
          else if (s.op === 'finish') await finishJob(db, jobId, attempts, outcome({ status: s.status }));
          else if (s.op === 'requeue') await requeueJob(db, jobId, attempts);
          else if (s.op === 'cancel') await cancelJob(db, OWNER, projectId, jobId);
          else if (s.op === 'cancel_unstarted') await cancelUnstartedJob(db, jobId);
          else if (s.op === 'give_up_recorded' && (status === 'queued' || status === 'in_progress'))
            await giveUpWithOutcome(db, jobId, { status, attempts }, outcome({ status: s.status }));
          else if (s.op === 'give_up' && (status === 'queued' || status === 'in_progress'))
            await giveUpJob(db, jobId, { status, attempts }, ['runner lost the job']);
        }
        expect(await projectStatus(db, projectId)).toBe(expectedStatus(await jobStatuses(projectId)));
      }
    }),
    { numRuns: 40 },
  );
});
