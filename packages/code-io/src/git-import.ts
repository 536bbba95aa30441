import fs from 'node:fs';
import path from 'node:path';
import { ImportError, type ImportLimits } from './import-limits';
import { pinnedUrl, runRemoteGit, RemoteGitError, secretsOf, type Pinned } from './git-remote';
import { parseRemoteUrl, RemoteRefused, resolveRemote, type Lookup, type RemoteRules } from './remote-url';

// A git repository brought into a staging directory (the runner's import step moves it into the
// workspace once it is whole): fetched shallow (depth 1) unless the ref is a commit the server will
// not serve that way, its tree's size and file count checked before anything is checked out, then
// checked out with git's own path checks (no `.git` entries, no `..`), and its `.git` removed.

export interface GitImportSource {
  url: string;
  ref?: string;
  token?: string;
}

export interface GitImportOptions {
  source: GitImportSource;
  /** An empty directory: what the repository holds ends up here (and `.git` is removed). */
  dir: string;
  rules: RemoteRules;
  lookup: Lookup;
  limits: ImportLimits;
  deadline: number;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export interface GitImported {
  commit: string;
  /** What was fetched, for the log and the import commit's message. */
  description: string;
}

const COMMIT_ID = /^[0-9a-f]{7,64}$/i;

/** Bytes under `dir` (no links followed), stopping once past `limit`. */
function bytesUnder(dir: string, limit: number): number {
  let total = 0;
  const stack = [dir];
  while (stack.length && total <= limit) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else total += fs.lstatSync(p, { throwIfNoEntry: false })?.size ?? 0;
    }
  }
  return total;
}

/** Pins a URL (checked against the rules) with its credential. */
export async function pinRemote(
  url: string,
  token: string | undefined,
  rules: RemoteRules,
  lookup: Lookup,
): Promise<Pinned> {
  const remote = parseRemoteUrl(url, rules);
  if (token && remote.scheme !== 'https' && remote.scheme !== 'http')
    throw new RemoteRefused('a token is used with https URLs only');
  const address = await resolveRemote(remote, rules, lookup);
  const credential = token
    ? { username: remote.credential?.username ?? 'x-access-token', password: token }
    : remote.credential;
  return { remote, address, credential, allowHttp: rules.allowHttp };
}

export async function fetchGitSource(o: GitImportOptions): Promise<GitImported> {
  const { source, dir, limits } = o;
  const pinned = await pinRemote(source.url, source.token, o.rules, o.lookup).catch((err: unknown) => {
    throw err instanceof RemoteRefused ? new ImportError('import_refused', err.message) : err;
  });
  const { url, config, env } = pinnedUrl(pinned);
  const secrets = secretsOf(pinned);
  const run = (args: string[], extra: Partial<Parameters<typeof runRemoteGit>[0]> = {}) =>
    runRemoteGit({ cwd: dir, args, config, env, secrets, signal: o.signal, deadline: o.deadline, ...extra });
  const what = `${pinned.remote.display}${source.ref ? ` at ${source.ref}` : ''}`;
  const tooBig = () => {
    if (bytesUnder(path.join(dir, '.git'), limits.maxBytes) > limits.maxBytes)
      throw new RemoteGitError(
        `the repository is larger than ${limits.maxBytes} bytes (MAX_IMPORT_BYTES): stopped fetching`,
        'too_large',
      );
  };
  try {
    await run(['init', '--quiet', '--template=', '.']);
    o.log(`import: fetching ${what} (shallow)`);
    const wanted = source.ref ?? 'HEAD';
    let commit: string;
    try {
      await run(['fetch', '--quiet', '--no-tags', '--depth=1', '--no-recurse-submodules', url, wanted], {
        watch: tooBig,
      });
      commit = (await run(['rev-parse', '--verify', 'FETCH_HEAD^{commit}'])).trim();
    } catch (err) {
      // A commit id the server will not send on its own (uploadpack.allowReachableSHA1InWant is
      // off by default): the whole history, then the commit in it.
      if (!(err instanceof RemoteGitError) || err.kind !== 'failed' || !source.ref || !COMMIT_ID.test(source.ref))
        throw err;
      o.log(`import: ${source.ref} could not be fetched alone; fetching the whole history to find it`);
      await run(
        [
          'fetch',
          '--quiet',
          '--no-recurse-submodules',
          url,
          '+refs/heads/*:refs/remotes/origin/*',
          '+refs/tags/*:refs/tags/*',
        ],
        { watch: tooBig },
      );
      commit = (
        await run(['rev-parse', '--verify', `${source.ref}^{commit}`]).catch(() => {
          throw new ImportError('import_failed', `the repository has no commit ${source.ref}`);
        })
      ).trim();
    }
    tooBig();
    await checkTree(run, commit, limits);
    await run(['checkout', '--quiet', '--detach', commit]);
    if (fs.existsSync(path.join(dir, '.gitmodules')))
      o.log('import: the repository has submodules; they are not fetched (their directories stay empty)');
    fs.rmSync(path.join(dir, '.git'), { recursive: true, force: true });
    return { commit, description: `${what} (${commit.slice(0, 12)})` };
  } catch (err) {
    if (err instanceof ImportError) throw err;
    if (err instanceof RemoteGitError) {
      if (err.kind === 'too_large') throw new ImportError('import_too_large', err.message);
      if (err.kind === 'aborted') throw err;
      const refMissing = /couldn't find remote ref|not our ref|no such ref/i.test(err.message);
      throw new ImportError(
        'import_failed',
        refMissing ? `${pinned.remote.display} has no ref ${source.ref ?? 'HEAD'}: ${err.message}` : err.message,
      );
    }
    throw err;
  }
}

/** The commit's tree within the limits (files, bytes once checked out), before it is checked out. */
async function checkTree(
  run: (args: string[], extra?: { maxOutput?: number }) => Promise<string>,
  commit: string,
  limits: ImportLimits,
): Promise<void> {
  const listing = await run(['ls-tree', '-r', '-l', '-z', '--full-tree', commit], { maxOutput: 256 * 1024 * 1024 });
  let files = 0;
  let bytes = 0;
  for (const entry of listing.split('\0')) {
    if (!entry) continue;
    // "<mode> <type> <oid> <size>\t<path>"
    const m = /^\d+ (\w+) [0-9a-f]+ +(\d+|-)\t/.exec(entry);
    if (!m) continue;
    files++;
    if (m[2] !== '-') bytes += Number(m[2]);
  }
  if (files > limits.maxFiles)
    throw new ImportError(
      'import_too_large',
      `the repository has ${files} files, more than ${limits.maxFiles} (IMPORT_MAX_FILES)`,
    );
  if (bytes > limits.maxUnpackedBytes)
    throw new ImportError(
      'import_too_large',
      `the repository's files hold ${bytes} bytes, more than ${limits.maxUnpackedBytes} (IMPORT_MAX_UNPACKED_BYTES)`,
    );
}
