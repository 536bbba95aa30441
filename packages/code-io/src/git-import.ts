import fs from 'node:fs';
import path from 'node:path';
import { ImportError, type ImportLimits } from './import-limits';
import { pinnedUrl, runRemoteGit, RemoteGitError, secretsOf, type Pinned } from './git-remote';
import { parseRemoteUrl, RemoteRefused, resolveRemote, type Lookup, type RemoteRules } from './remote-url';
import { writeSshFiles, type SshCredentials, type SshFiles } from './ssh-files';

// A git repository brought into a staging directory (the runner's import step moves it into the
// workspace once it is whole): fetched shallow (depth 1) unless the ref is a commit the server will
// not serve that way, its tree's size and file count checked before anything is checked out, then
// checked out with git's own path checks (no `.git` entries, no `..`), and its `.git` removed.

export interface GitImportSource {
  url: string;
  ref?: string;
  token?: string;
  /** Fetch the repository's submodules too (each URL checked by the same rules), shallow. */
  submodules?: boolean;
  /** ssh only: a deploy key, and the known_hosts lines its host key must be among. */
  ssh?: SshCredentials;
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
  ssh?: Pick<SshFiles, 'keyFile' | 'knownHostsFile'>,
): Promise<Pinned> {
  const remote = parseRemoteUrl(url, rules);
  if (token && remote.scheme !== 'https' && remote.scheme !== 'http')
    throw new RemoteRefused('a token is used with https URLs only');
  if ((ssh?.keyFile || ssh?.knownHostsFile) && remote.scheme !== 'ssh')
    throw new RemoteRefused('an ssh key or known_hosts is used with ssh URLs only');
  const address = await resolveRemote(remote, rules, lookup);
  const credential = token
    ? { username: remote.credential?.username ?? 'x-access-token', password: token }
    : remote.credential;
  return { remote, address, credential, allowHttp: rules.allowHttp, ssh };
}

/** What every repository of one import (the project's and its submodules') uses up, together. */
interface Budget {
  /** Bytes fetched (.git directories) of the repositories done so far. */
  fetched: number;
  files: number;
  bytes: number;
}

interface FetchContext {
  o: GitImportOptions;
  budget: Budget;
}

export async function fetchGitSource(o: GitImportOptions): Promise<GitImported> {
  const { source } = o;
  const ssh = writeSshFiles(source.ssh ?? {});
  try {
    const pinned = await pinRemote(source.url, source.token, o.rules, o.lookup, ssh).catch((err: unknown) => {
      throw err instanceof RemoteRefused ? new ImportError('import_refused', err.message) : err;
    });
    const what = `${pinned.remote.display}${source.ref ? ` at ${source.ref}` : ''}`;
    const ctx: FetchContext = { o, budget: { fetched: 0, files: 0, bytes: 0 } };
    const commit = await fetchRepository(ctx, o.dir, pinned, source.ref, what, 0);
    return { commit, description: `${what} (${commit.slice(0, 12)})` };
  } finally {
    ssh.remove();
  }
}

/** How deep submodules of submodules are followed. */
const MAX_SUBMODULE_DEPTH = 3;

/** Fetches `ref` (the default branch without one) of `pinned` into the empty `dir`, checked out, its `.git` removed. */
async function fetchRepository(
  ctx: FetchContext,
  dir: string,
  pinned: Pinned,
  ref: string | undefined,
  what: string,
  depth: number,
): Promise<string> {
  const { o, budget } = ctx;
  const { limits } = o;
  const { url, config, env } = pinnedUrl(pinned);
  const secrets = secretsOf(pinned);
  const run = (args: string[], extra: Partial<Parameters<typeof runRemoteGit>[0]> = {}) =>
    runRemoteGit({ cwd: dir, args, config, env, secrets, signal: o.signal, deadline: o.deadline, ...extra });
  const tooBig = () => {
    const left = limits.maxBytes - budget.fetched;
    if (bytesUnder(path.join(dir, '.git'), left) > left)
      throw new RemoteGitError(
        `the repository${depth ? ' with its submodules' : ''} is larger than ${limits.maxBytes} bytes ` +
          '(MAX_IMPORT_BYTES): stopped fetching',
        'too_large',
      );
  };
  try {
    await run(['init', '--quiet', '--template=', '.']);
    o.log(`import: fetching ${what} (shallow)`);
    const wanted = ref ?? 'HEAD';
    let commit: string;
    try {
      await run(['fetch', '--quiet', '--no-tags', '--depth=1', '--no-recurse-submodules', url, wanted], {
        watch: tooBig,
      });
      commit = (await run(['rev-parse', '--verify', 'FETCH_HEAD^{commit}'])).trim();
    } catch (err) {
      // A commit id the server will not send on its own (uploadpack.allowReachableSHA1InWant is
      // off by default): the whole history, then the commit in it.
      if (!(err instanceof RemoteGitError) || err.kind !== 'failed' || !ref || !COMMIT_ID.test(ref)) throw err;
      o.log(`import: ${ref} could not be fetched alone; fetching the whole history to find it`);
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
        await run(['rev-parse', '--verify', `${ref}^{commit}`]).catch(() => {
          throw new ImportError('import_failed', `${pinned.remote.display} has no commit ${ref}`);
        })
      ).trim();
    }
    tooBig();
    const gitlinks = await checkTree(run, commit, limits, budget);
    await run(['checkout', '--quiet', '--detach', commit]);
    if (gitlinks.length && !o.source.submodules)
      o.log('import: the repository has submodules; they are not fetched (their directories stay empty)');
    else if (gitlinks.length) {
      if (depth >= MAX_SUBMODULE_DEPTH)
        throw new ImportError('import_refused', `submodules nest deeper than ${MAX_SUBMODULE_DEPTH} levels`);
      const subs = await pinSubmodules(ctx, run, dir, commit, pinned, gitlinks);
      budget.fetched += bytesUnder(path.join(dir, '.git'), limits.maxBytes);
      fs.rmSync(path.join(dir, '.git'), { recursive: true, force: true });
      for (const sub of subs)
        await fetchRepository(
          ctx,
          sub.dir,
          sub.pinned,
          sub.commit,
          `submodule ${sub.path} from ${sub.pinned.remote.display}`,
          depth + 1,
        );
      return commit;
    }
    budget.fetched += bytesUnder(path.join(dir, '.git'), limits.maxBytes);
    fs.rmSync(path.join(dir, '.git'), { recursive: true, force: true });
    return commit;
  } catch (err) {
    if (err instanceof ImportError) throw err;
    if (err instanceof RemoteGitError) {
      if (err.kind === 'too_large') throw new ImportError('import_too_large', err.message);
      if (err.kind === 'aborted') throw err;
      const refMissing = /couldn't find remote ref|not our ref|no such ref/i.test(err.message);
      const where = depth ? `${what}: ` : '';
      throw new ImportError(
        'import_failed',
        where + (refMissing ? `${pinned.remote.display} has no ref ${ref ?? 'HEAD'}: ${err.message}` : err.message),
      );
    }
    throw err;
  }
}

interface Gitlink {
  path: string;
  commit: string;
}

interface PinnedSubmodule extends Gitlink {
  dir: string;
  pinned: Pinned;
}

/**
 * Every submodule of `commit`, its URL (from the commit's own .gitmodules, a relative one taken
 * from the parent's) checked against the rules and pinned, before any is fetched: one refused URL
 * refuses the import. The parent's credential goes to a submodule on the same scheme, host and port
 * only.
 */
async function pinSubmodules(
  ctx: FetchContext,
  run: (args: string[], extra?: { maxOutput?: number }) => Promise<string>,
  dir: string,
  commit: string,
  parent: Pinned,
  gitlinks: Gitlink[],
): Promise<PinnedSubmodule[]> {
  const { o } = ctx;
  // Read from the commit, not the checked-out file (which git would refuse to be a link anyway).
  const listing = await run(['config', '--blob', `${commit}:.gitmodules`, '-z', '--list']).catch(() => '');
  const byName = new Map<string, { path?: string; url?: string }>();
  for (const item of listing.split('\0')) {
    const m = /^submodule\.(.+)\.(path|url)\n([\s\S]*)$/.exec(item);
    if (!m) continue;
    const entry = byName.get(m[1]!) ?? {};
    entry[m[2] as 'path' | 'url'] = m[3]!;
    byName.set(m[1]!, entry);
  }
  const pinnedSubs: PinnedSubmodule[] = [];
  for (const link of gitlinks) {
    const declared = [...byName.values()].find((e) => e.path === link.path);
    if (!declared?.url)
      throw new ImportError('import_failed', `the submodule at ${link.path} has no URL in .gitmodules`);
    let sub: Pinned;
    try {
      const url = submoduleUrl(declared.url, parent);
      const remote = parseRemoteUrl(url, o.rules);
      const same =
        remote.scheme === parent.remote.scheme &&
        remote.host === parent.remote.host &&
        remote.port === parent.remote.port;
      sub = {
        remote,
        address: await resolveRemote(remote, o.rules, o.lookup),
        credential: remote.credential ?? (same ? parent.credential : null),
        allowHttp: o.rules.allowHttp,
        ssh: same ? parent.ssh : undefined,
      };
    } catch (err) {
      if (err instanceof RemoteRefused)
        throw new ImportError('import_refused', `the submodule at ${link.path}: ${err.message}`);
      throw err;
    }
    const subDir = path.join(dir, link.path);
    // git checked the path out as an empty directory; nothing on the way may be a link.
    const real = fs.realpathSync(subDir);
    if (real !== path.join(fs.realpathSync(dir), link.path) || !fs.lstatSync(subDir).isDirectory())
      throw new ImportError('import_refused', `the submodule at ${link.path} is not a directory of the repository`);
    pinnedSubs.push({ ...link, dir: subDir, pinned: sub });
  }
  return pinnedSubs;
}

/** A submodule's URL as git takes it: `./x` and `../x` are relative to the parent's URL. */
function submoduleUrl(url: string, parent: Pinned): string {
  if (!url.startsWith('./') && !url.startsWith('../')) return url;
  const display = parent.remote.display;
  if (parent.remote.scp) {
    // user@host:<path>: the path joined as a directory, what is before it kept.
    const joined = path.posix.normalize(`${parent.remote.path}/${url}`);
    if (joined.startsWith('..')) throw new RemoteRefused(`the relative URL ${url} leaves the repository's host`);
    return `${display.slice(0, display.length - parent.remote.path.length)}${joined}`;
  }
  // The parent's URL as a directory: ../lib.git next to it, ./lib.git inside it (git's rule).
  return new URL(url, display.endsWith('/') ? display : `${display}/`).href;
}

/**
 * The commit's tree within the limits (files, bytes once checked out; counted with what the
 * import's other repositories hold), before it is checked out. Returns its gitlinks (submodules).
 */
async function checkTree(
  run: (args: string[], extra?: { maxOutput?: number }) => Promise<string>,
  commit: string,
  limits: ImportLimits,
  budget: Budget,
): Promise<Gitlink[]> {
  const listing = await run(['ls-tree', '-r', '-l', '-z', '--full-tree', commit], { maxOutput: 256 * 1024 * 1024 });
  const gitlinks: Gitlink[] = [];
  for (const entry of listing.split('\0')) {
    if (!entry) continue;
    // "<mode> <type> <oid> <size>\t<path>"
    const m = /^\d+ (\w+) ([0-9a-f]+) +(\d+|-)\t([\s\S]*)$/.exec(entry);
    if (!m) continue;
    if (m[1] === 'commit') gitlinks.push({ path: m[4]!, commit: m[2]! });
    budget.files++;
    if (m[3] !== '-') budget.bytes += Number(m[3]);
  }
  const whose = gitlinks.length || budget.fetched ? 'with its submodules ' : '';
  if (budget.files > limits.maxFiles)
    throw new ImportError(
      'import_too_large',
      `the repository ${whose}has ${budget.files} files, more than ${limits.maxFiles} (IMPORT_MAX_FILES)`,
    );
  if (budget.bytes > limits.maxUnpackedBytes)
    throw new ImportError(
      'import_too_large',
      `the repository's files ${whose}hold ${budget.bytes} bytes, more than ${limits.maxUnpackedBytes} (IMPORT_MAX_UNPACKED_BYTES)`,
    );
  return gitlinks;
}
