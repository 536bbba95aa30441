import { pinnedUrl, runRemoteGit, RemoteGitError, secretsOf } from './git-remote';
import { pinRemote } from './git-import';
import { RemoteRefused, type Lookup, type RemoteRules } from './remote-url';
import { writeSshFiles, type SshCredentials, type SshFiles } from './ssh-files';

// A project's history pushed to a branch of a remote repository that a user named: the same URL
// rules, pinning and credential handling as an import (git-remote.ts), and a push of one commit id
// to refs/heads/<branch> — never a force push. The history repository is only read: `git push` to
// a URL (no configured remote) writes no ref and no object in it.

export interface PushOptions {
  /** The project's history (a bare repository). */
  gitDir: string;
  /** The commit to push (every object it needs is in gitDir). */
  commit: string;
  url: string;
  branch: string;
  token?: string;
  /** ssh only: a deploy key and known_hosts for this push (written to 0600 files while it runs). */
  ssh?: SshCredentials;
  rules: RemoteRules;
  lookup: Lookup;
  /** When the push must have finished (ms since the epoch). */
  deadline: number;
  signal?: AbortSignal;
}

export interface Pushed {
  /** The URL without any credential. */
  url: string;
  branch: string;
  commit: string;
  previousCommit: string | null;
  status: 'created' | 'updated' | 'up_to_date';
  commits: number;
}

/** Why a push did not happen: `refused` before connecting, `rejected` by the remote (not a fast-forward), `failed` otherwise. */
export class PushError extends Error {
  constructor(
    message: string,
    readonly kind: 'refused' | 'rejected' | 'failed',
    /** For `refused`: which of the request's fields. */
    readonly field: 'url' | 'branch' = 'url',
  ) {
    super(message);
    this.name = 'PushError';
  }
}

/** git push --porcelain: "<flag>\t<from>:<to>\t<summary>" for the ref. */
const PORCELAIN_REF = /^([ +\-*=!])\t[^\t]*:refs\/heads\/[^\t]+\t(.*)$/m;

export async function pushHistory(o: PushOptions): Promise<Pushed> {
  const ssh = writeSshFiles(o.ssh ?? {});
  try {
    return await push(o, ssh);
  } finally {
    ssh.remove();
  }
}

async function push(o: PushOptions, ssh: SshFiles): Promise<Pushed> {
  let pinned;
  try {
    pinned = await pinRemote(o.url, o.token, o.rules, o.lookup, ssh);
  } catch (err) {
    if (err instanceof RemoteRefused) throw new PushError(err.message, 'refused');
    throw err;
  }
  const { url, config, env } = pinnedUrl(pinned);
  const secrets = secretsOf(pinned);
  // GIT_DIR rather than --git-dir: git's messages name the command, never the history's path.
  const base = { cwd: o.gitDir, config, secrets, deadline: o.deadline, signal: o.signal };
  const local = (args: string[]) =>
    runRemoteGit({ ...base, args, config: [], secrets: [], env: { GIT_DIR: o.gitDir } });

  const ref = `refs/heads/${o.branch}`;
  try {
    await local(['check-ref-format', ref]);
  } catch {
    throw new PushError(`"${o.branch}" is not a valid branch name`, 'refused', 'branch');
  }
  let out: string;
  try {
    out = await runRemoteGit({
      ...base,
      env: { ...env, GIT_DIR: o.gitDir },
      // --porcelain: one machine-readable line per ref, on stdout, also when it is rejected.
      args: ['push', '--porcelain', '--no-verify', url, `${o.commit}:${ref}`],
    });
  } catch (err) {
    if (!(err instanceof RemoteGitError)) throw err;
    if (/\[rejected\]|non-fast-forward|fetch first/.test(`${err.stdout}\n${err.message}`))
      throw new PushError(
        `the remote branch ${o.branch} has commits the project history does not have (not a fast-forward); ` +
          'push to a new branch, or bring the remote branch in line first',
        'rejected',
      );
    const detail = err.message.replace(/^git push failed: /, '');
    // git asks for a user name when the server answers 401 and it has no (accepted) credential.
    if (
      /could not read Username|Authentication failed|The requested URL returned error: 40[13]|Permission denied/.test(
        detail,
      )
    )
      throw new PushError(
        pinned.remote.scheme === 'ssh'
          ? 'authentication failed: the remote refused the ssh key (send an ssh_key with push rights)'
          : 'authentication failed: the remote refused the credentials (send a token with push rights)',
        'failed',
      );
    throw new PushError(detail, 'failed');
  }
  const line = PORCELAIN_REF.exec(out);
  const summary = line?.[2] ?? '';
  if (line?.[1] === '=' || /\[up to date\]/.test(summary))
    return {
      url: pinned.remote.display,
      branch: o.branch,
      commit: o.commit,
      previousCommit: o.commit,
      status: 'up_to_date',
      commits: 0,
    };
  const range = /^([0-9a-f]{7,64})\.\.([0-9a-f]{7,64})$/.exec(summary);
  if (range) {
    const previous = (await local(['rev-parse', '--verify', `${range[1]}^{commit}`])).trim();
    const commits = Number((await local(['rev-list', '--count', `${previous}..${o.commit}`])).trim());
    return {
      url: pinned.remote.display,
      branch: o.branch,
      commit: o.commit,
      previousCommit: previous,
      status: 'updated',
      commits,
    };
  }
  const commits = Number((await local(['rev-list', '--count', o.commit])).trim());
  return {
    url: pinned.remote.display,
    branch: o.branch,
    commit: o.commit,
    previousCommit: null,
    status: 'created',
    commits,
  };
}
