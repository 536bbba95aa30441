import fs from 'node:fs/promises';
import path from 'node:path';
import { CODEX_DIR, isInsideDirectory } from '@cwo/workspace';

// The page a static preview answers for a directory without an index.html (a Python CLI, a
// library): its entries as links, the way web servers' autoindex does. Hand-written: serve-index
// opens entries by path and follows links, and it is a few lines over readdir.

/** A directory lists at most this many entries, so that a node_modules folder costs a bounded page. */
export const DIRECTORY_INDEX_MAX_ENTRIES = 1000;

interface Entry {
  name: string;
  directory: boolean;
  size: number;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const formatSize = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;

const isCodex = (relative: string): boolean => relative === CODEX_DIR || relative.startsWith(`${CODEX_DIR}/`);

/**
 * What a listed name is, judged by its real path: a link is shown as what it points at, and left
 * out when that is outside the workspace or in .codex/ (it could not be opened either).
 */
async function entryOf(realRoot: string, directory: string, name: string): Promise<Entry | null> {
  const full = path.join(directory, name);
  try {
    const real = await fs.realpath(full);
    if (!isInsideDirectory(realRoot, real) || isCodex(path.relative(realRoot, real).split(path.sep).join('/'))) {
      return null;
    }
    const stat = await fs.stat(real);
    if (!stat.isDirectory() && !stat.isFile()) return null;
    return { name, directory: stat.isDirectory(), size: stat.size };
  } catch {
    return null; // dangling link, or gone since readdir
  }
}

export interface DirectoryListing {
  entries: Entry[];
  /** Entries past DIRECTORY_INDEX_MAX_ENTRIES, not listed. */
  more: number;
}

/**
 * The entries of a directory of the workspace (`realDirectory` already resolved inside it), or
 * null when it is not a directory. .codex/ is never listed.
 */
export async function listDirectory(realRoot: string, realDirectory: string): Promise<DirectoryListing | null> {
  let names: string[];
  try {
    names = await fs.readdir(realDirectory);
  } catch (err) {
    if (['ENOTDIR', 'ENOENT'].includes((err as NodeJS.ErrnoException).code ?? '')) return null;
    throw err;
  }
  // Sorted before the cap, so that the same entries are listed on every request.
  names.sort();
  const entries: Entry[] = [];
  let more = 0;
  for (const name of names) {
    if (entries.length >= DIRECTORY_INDEX_MAX_ENTRIES) {
      more++;
      continue;
    }
    const entry = await entryOf(realRoot, realDirectory, name);
    if (entry) entries.push(entry);
  }
  // Directories first, then files, each by name (the order of names above is kept within each).
  entries.sort((a, b) => Number(b.directory) - Number(a.directory));
  return { entries, more };
}

/** The HTML page of a listing; `urlPath` is the directory's path in the preview, ending in '/'. */
export function renderDirectoryIndex(urlPath: string, listing: DirectoryListing): string {
  const title = `Index of ${escapeHtml(urlPath)}`;
  const rows: string[] = [];
  if (urlPath !== '/') rows.push('<li><a href="../">../</a></li>');
  for (const e of listing.entries) {
    const shown = e.directory ? `${e.name}/` : e.name;
    const href = `./${encodeURIComponent(e.name)}${e.directory ? '/' : ''}`;
    const size = e.directory ? '' : ` <span class="size">${formatSize(e.size)}</span>`;
    rows.push(`<li><a href="${escapeHtml(href)}">${escapeHtml(shown)}</a>${size}</li>`);
  }
  if (listing.entries.length === 0 && urlPath === '/') rows.push('<li>This workspace has no files yet.</li>');
  const more = listing.more > 0 ? `<p>and ${listing.more} more entries, not listed</p>` : '';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    '<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem}ul{list-style:none;padding:0}',
    'li{font-family:ui-monospace,monospace}.size{color:#666;margin-left:1em}</style>',
    '</head><body>',
    `<h1>${title}</h1>`,
    '<p>This directory has no index.html; these are its files.</p>',
    `<ul>${rows.join('')}</ul>`,
    more,
    '</body></html>',
  ].join('\n');
}
