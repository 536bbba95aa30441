import fs from 'node:fs';
import ignore, { type Ignore } from 'ignore';
import { withRegularFile } from '@cwo/workspace';

// What the history leaves out, as git decides it: the project's .gitignore files (a deeper one
// wins, the last matching line of a file wins, nothing under an ignored directory comes back),
// over the runner's own list (HISTORY_IGNORE: dependency and cache folders), which is consulted
// last, as git consults .git/info/exclude after the .gitignore files: a project can take an entry
// back with `!node_modules/` in its own .gitignore.

export interface Rules {
  /** Workspace-relative directory the .gitignore is in ('' for the top). */
  base: string;
  ig: Ignore;
  /**
   * Whether a line can match a file: false when every pattern ends in '/' (git's "directories
   * only"), as HISTORY_IGNORE's default does, which spares a test per file of the workspace.
   */
  filesToo: boolean;
}

function compile(base: string, lines: string[]): Rules {
  const patterns = lines.map((l) => l.trimEnd()).filter((l) => l !== '' && !l.startsWith('#'));
  return { base, ig: ignore(CASE).add(lines), filesToo: patterns.some((p) => !p.endsWith('/')) };
}

// Compiled rules by directory and text: every snapshot and commit of a job reads the same
// .gitignore files and HISTORY_IGNORE, and compiling them was a job's cost, not the walk's. A rule
// set is never changed once made, so a changed text is simply another key. Bounded: the oldest
// goes first.
const compiled = new Map<string, Rules>();
const COMPILED_MAX = 512;

function rulesOf(base: string, lines: string[], text = lines.join('\n')): Rules {
  const key = `${base}\0${text}`;
  let rules = compiled.get(key);
  if (rules) {
    compiled.delete(key);
  } else {
    rules = compile(base, lines);
    if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
  }
  compiled.set(key, rules);
  return rules;
}

// Names differ by case on Linux, and to git there (core.ignoreCase false).
const CASE = { ignorecase: false };

const isGone = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

/** The rules every walk starts from: the runner's list (gitignore patterns), if any. */
export function baseRules(patterns: readonly string[] | undefined): Rules[] {
  return patterns && patterns.length > 0 ? [rulesOf('', [...patterns])] : [];
}

/**
 * A .gitignore's rules; null when there is none. Not through a link (git does not follow a
 * symlinked .gitignore either); read inline, like the object writes (see git-objects.ts).
 */
export function readGitignore(file: string): string | null {
  try {
    return withRegularFile(file, (fd) => fs.readFileSync(fd, 'utf8'));
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/** `inherited` with the .gitignore of directory `rel` (its text, or null when it has none). */
export function withGitignore(inherited: Rules[], rel: string, text: string | null): Rules[] {
  return text === null ? inherited : [...inherited, rulesOf(rel, text.split(/\r?\n/), text)];
}

interface Verdict {
  ignored: boolean;
  unignored: boolean;
}
type RuleSet = { _rules?: { test?: (path: string, mode: string) => Verdict } };

/**
 * Whether the lines of one file match the path itself. `ignore`'s public test() also answers
 * "ignored" when one of its own patterns matches a parent directory, which is wrong here: the
 * walks decide each directory across all the files (a deeper `!build/` can take back what the top
 * one ignores, as git does) and never enter one that is ignored, so only the path's own match is
 * wanted. That is the rule test `ignore` keeps behind test(); test() is the fallback.
 */
function ownMatch(ig: Ignore, path: string): Verdict {
  const rules = (ig as unknown as RuleSet)._rules;
  return typeof rules?.test === 'function' ? rules.test(path, 'regex') : ig.test(path);
}

export function isIgnored(rules: Rules[], rel: string, isDir: boolean): boolean {
  // Deepest rules first: the first file with a say decides.
  for (let i = rules.length - 1; i >= 0; i--) {
    const { base, ig, filesToo } = rules[i]!;
    if (!isDir && !filesToo) continue;
    const sub = base === '' ? rel : rel.slice(base.length + 1);
    const verdict = ownMatch(ig, isDir ? `${sub}/` : sub);
    if (verdict.ignored) return true;
    if (verdict.unignored) return false;
  }
  return false;
}
