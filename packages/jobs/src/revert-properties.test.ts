import fc from 'fast-check';
import type { Db } from '@cwo/db';
import { cancelJob } from './cancel';
import { createJob, createRevertJob } from './create';
import { finishJob, startJob } from './run';
import { newProject, OWNER, outcome, testDb } from './__tests__/fixtures';

// createRevertJob under concurrency (property-based, against the real Postgres): bursts of revert,
// edit, start, finish and cancel requests sent at once, in any mix, never leave two live reverts
// of one job, a revert of a job that has not finished or changed nothing, or a refused request
// that wrote a row.

let db: Db;
beforeAll(() => {
  db = testDb();
});
afterAll(() => db.$disconnect());

const FINISHED = ['completed', 'error', 'cancelled'];
/** A revert that counts: one still to run, or one that undid the job (error and cancelled do not). */
const LIVE = ['queued', 'in_progress', 'completed'];

type Step =
  | { op: 'revert' | 'start' | 'cancel'; job: number }
  | { op: 'finish'; job: number; status: 'completed' | 'error'; changed: boolean }
  | { op: 'edit' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('revert' as const), job: fc.nat(5) }) },
  fc.record({ op: fc.constantFrom('start' as const, 'cancel' as const), job: fc.nat(5) }),
  fc.record({
    op: fc.constant('finish' as const),
    job: fc.nat(5),
    status: fc.constantFrom('completed' as const, 'error' as const),
    changed: fc.boolean(),
  }),
  fc.constant({ op: 'edit' as const }),
);

it('concurrent revert, edit, start, finish and cancel requests: one live revert per job, only of finished changes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(step, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
      async (bursts) => {
        // The initial job finished with a commit of its changes: something to undo from the start.
        const { projectId, jobIds } = await newProject(db, 1);
        await startJob(db, jobIds[0]!);
        await finishJob(db, jobIds[0]!, 1, outcome({ modified_files: ['app.py'], commit_sha: 'a'.repeat(40) }));
        let created = 0;
        for (const burst of bursts) {
          const known = [...jobIds];
          await Promise.all(
            burst.map(async (s) => {
              if (s.op === 'edit') {
                const edit = await createJob(db, OWNER, projectId, { job_type: 'edit', instruction: 'x' }, 0);
                if (edit.kind === 'created') jobIds.push(edit.job.id);
                return;
              }
              const jobId = known[s.job % known.length]!;
              if (s.op === 'revert') {
                const revert = await createRevertJob(db, OWNER, projectId, jobId, 0);
                if (revert.kind === 'created') {
                  created++;
                  jobIds.push(revert.job.id);
                }
              } else if (s.op === 'start') await startJob(db, jobId);
              else if (s.op === 'cancel') await cancelJob(db, OWNER, projectId, jobId);
              else if (s.op === 'finish') {
                const { attempts } = await db.job.findUniqueOrThrow({ where: { id: jobId } });
                const changes = s.changed ? { modified_files: ['app.py'], commit_sha: 'b'.repeat(40) } : {};
                await finishJob(db, jobId, attempts, outcome({ status: s.status, ...changes }));
              }
            }),
          );
          const jobs = await db.job.findMany({ where: { projectId } });
          const byId = new Map(jobs.map((j) => [j.id, j]));
          const reverts = jobs.filter((j) => j.jobType === 'revert');
          // Every revert written was answered `created`, and no refusal wrote one.
          expect(reverts).toHaveLength(created);
          for (const r of reverts) {
            const target = byId.get(r.revertsJobId!)!;
            // A finished job never changes again, so one unfinished now was unfinished when asked.
            expect(FINISHED).toContain(target.status);
            expect(target.commitSha).not.toBeNull();
            expect(
              target.createdFiles.length + target.modifiedFiles.length + target.deletedFiles.length,
            ).toBeGreaterThan(0);
          }
          const live = reverts.filter((r) => LIVE.includes(r.status)).map((r) => r.revertsJobId);
          expect(new Set(live).size).toBe(live.length);
        }
      },
    ),
    { numRuns: 30 },
  );
});
