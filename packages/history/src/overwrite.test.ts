import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commitJob, HISTORY_BRANCH, projectHistoryDir } from './history';
import { takeSnapshot } from './snapshot';
import { loadStatIndex, statIndexPath } from './stat-index';

// The ref and the stat index are written in place by every commit (overwrite.ts): a commit frees
// no inode and makes none for them, and git and the next snapshot read what it wrote.

const author = { name: 'Test', email: 'test@test.invalid' };
const git = (gitDir: string, ...args: string[]) =>
  execFileSync('git', [`--git-dir=${gitDir}`, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' },
  }).trim();

describe('a commit’s ref and stat index', () => {
  let root: string;
  let workspace: string;
  const projectId = randomUUID();
  const gitDir = () => projectHistoryDir(root, projectId);
  const commit = async (n: number) =>
    commitJob({
      workspaceRoot: root,
      projectId,
      workspace,
      job: { id: randomUUID(), jobType: 'edit', instruction: `edit ${n}` },
      author,
      snapshot: await takeSnapshot(workspace),
    });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-overwrite-'));
    workspace = path.join(root, projectId);
    fs.mkdirSync(workspace);
    fs.writeFileSync(path.join(workspace, 'app.py'), 'print(1)\n');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('are the same files after every commit, holding the new commit and the new index', async () => {
    await commit(0);
    const ref = path.join(gitDir(), 'refs', 'heads', HISTORY_BRANCH);
    const inodes = [fs.statSync(ref).ino, fs.statSync(statIndexPath(gitDir())).ino];
    for (let n = 1; n <= 3; n++) {
      // Fewer files each time: the index gets shorter and its old tail must go.
      if (n === 3) fs.rmSync(path.join(workspace, 'lib'), { recursive: true });
      else fs.mkdirSync(path.join(workspace, 'lib', `p${n}`), { recursive: true });
      if (n < 3) fs.writeFileSync(path.join(workspace, 'lib', `p${n}`, 'a.py'), `${n}\n`);
      const sha = await commit(n);
      expect([fs.statSync(ref).ino, fs.statSync(statIndexPath(gitDir())).ino]).toEqual(inodes);
      expect(git(gitDir(), 'rev-parse', HISTORY_BRANCH)).toBe(sha);
      expect(fs.readFileSync(ref, 'utf8')).toBe(`${sha}\n`);
      const index = loadStatIndex(gitDir(), workspace);
      expect(index && [...index.keys()].sort()).toEqual([...(await takeSnapshot(workspace)).keys()].sort());
    }
    expect(fs.readdirSync(gitDir()).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
    expect(git(gitDir(), 'fsck', '--strict')).toBe('');
  });

  it('an index cut short by a crash is no index (every file read again), and the next commit writes it whole', async () => {
    await commit(0);
    const file = statIndexPath(gitDir());
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    expect(loadStatIndex(gitDir(), workspace)).toBeNull();
    fs.appendFileSync(path.join(workspace, 'app.py'), '# more\n');
    await commit(1);
    expect(loadStatIndex(gitDir(), workspace)?.has('app.py')).toBe(true);
  });
});
