import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRevertJob } from '@cwo/jobs';
import { projectHistoryDir } from '@cwo/history';
import { CODEX_DIR, projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import { addEdit, createProject, readJobLog, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// Undoing a job with the real runner, the dummy agent (an edit appends a comment line to app.py)
// and the real history: a revert job runs in its turn, undoes the job's commit on top of the
// current state and commits that; where a later job's change overlaps, it ends in revert_conflict
// naming the file, and the workspace is left exactly as it was.

const OWNER = '00000000-0000-4000-8000-000000000001';

/** Every file and link outside .codex/: its kind, mode and bytes. */
function treeOf(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const childRel = rel ? `${rel}/${d.name}` : d.name;
    if (childRel === CODEX_DIR) continue;
    const abs = path.join(dir, childRel);
    const stat = fs.lstatSync(abs);
    if (d.isDirectory()) Object.assign(out, treeOf(dir, childRel), { [`${childRel}/`]: 'dir' });
    else if (d.isSymbolicLink()) out[childRel] = `link ${fs.readlinkSync(abs)}`;
    else out[childRel] = `${(stat.mode & 0o7777).toString(8)} ${fs.readFileSync(abs).toString('base64')}`;
  }
  return out;
}

describe('revert jobs', () => {
  const harness = useRunnerHarness();
  const { db } = harness;

  async function projectWithEdits(edits: string[]) {
    const config = testConfig();
    const queue = harness.queue(config);
    await harness.startRunner(config, createDummyExecutor());
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    expect(await waitForJob(db, jobId)).toMatchObject({ status: 'completed' });
    const editIds: string[] = [];
    for (const instruction of edits) {
      const id = await addEdit(db, projectId, instruction);
      await queue.enqueue(id);
      expect(await waitForJob(db, id)).toMatchObject({ status: 'completed' });
      editIds.push(id);
    }
    const workspace = projectWorkspace(config.workspaceRoot, projectId);
    const git = (...args: string[]) =>
      execFileSync('git', [`--git-dir=${projectHistoryDir(config.workspaceRoot, projectId)}`, ...args], {
        encoding: 'utf8',
      });
    async function revert(targetId: string) {
      const created = await createRevertJob(db, OWNER, projectId, targetId, 0);
      if (created.kind !== 'created') throw new Error(`revert refused: ${created.kind}`);
      await queue.enqueue(created.job.id);
      return waitForJob(db, created.job.id);
    }
    return { config, projectId, workspace, editIds, git, revert };
  }

  it('undoes the latest edit: the line is gone, the revert has its commit, diff and log', async () => {
    const p = await projectWithEdits(['Add a --count flag']);
    const app = path.join(p.workspace, 'app.py');
    expect(fs.readFileSync(app, 'utf8')).toContain('Add a --count flag');
    const job = await p.revert(p.editIds[0]!);

    expect(job).toMatchObject({ status: 'completed', errorCode: null, jobType: 'revert', modifiedFiles: ['app.py'] });
    expect(job.instruction).toMatch(new RegExp(`^Undo job ${p.editIds[0]} \\(edit: Add a --count flag\\)$`));
    expect(fs.readFileSync(app, 'utf8')).not.toContain('Add a --count flag');
    const diff = p.git('show', '--format=%s%n%b', job.commitSha!);
    expect(diff).toContain(`revert: Undo job ${p.editIds[0]}`);
    expect(diff).toContain(`Job-Id: ${job.id}`);
    expect(diff).toMatch(/^-.*Add a --count flag/m);
    expect(p.git('rev-parse', 'main').trim()).toBe(job.commitSha);
    // The workspace is what the revert's commit holds.
    expect(p.git('show', `${job.commitSha}:app.py`)).toBe(fs.readFileSync(app, 'utf8'));
    const log = await readJobLog(p.config, p.projectId, job.id);
    expect(log).toContain(`revert: undoing job ${p.editIds[0]}`);
    expect(log).toContain('finished: completed');

    // A later edit starts from the reverted state, and undoing the revert brings the line back.
    const again = await p.revert(job.id);
    expect(again).toMatchObject({ status: 'completed', modifiedFiles: ['app.py'] });
    expect(fs.readFileSync(app, 'utf8')).toContain('Add a --count flag');
  });

  it('a conflict ends in revert_conflict naming the file, and the workspace is unchanged byte for byte', async () => {
    const p = await projectWithEdits(['Add a --count flag', 'Add a --json flag']);
    fs.symlinkSync('app.py', path.join(p.workspace, 'link-to-app'));
    fs.chmodSync(path.join(p.workspace, 'app.py'), 0o755);
    // Commit that state (an edit) so the workspace is what the history recorded.
    const settle = await addEdit(db, p.projectId, 'Add a --verbose flag');
    await harness.queue(p.config).enqueue(settle);
    expect(await waitForJob(db, settle)).toMatchObject({ status: 'completed' });
    const before = treeOf(p.workspace);
    const head = p.git('rev-parse', 'main').trim();

    // The first edit's line is right above the second's: undoing it overlaps the later edits.
    const job = await p.revert(p.editIds[0]!);
    expect(job).toMatchObject({ status: 'error', errorCode: 'revert_conflict', createdFiles: [], modifiedFiles: [] });
    expect(job.errors).toEqual([
      `revert: the changes of job ${p.editIds[0]} conflict with later changes in app.py; nothing was changed`,
    ]);
    expect(treeOf(p.workspace)).toEqual(before);
    // Its commit changes nothing.
    expect(p.git('rev-parse', `${job.commitSha}^{tree}`)).toBe(p.git('rev-parse', `${head}^{tree}`));
    expect(await readJobLog(p.config, p.projectId, job.id)).toContain('conflict with later changes in app.py');
  });
});
