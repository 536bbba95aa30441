import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import fresh from 'fresh';
import mime from 'mime-types';
import rangeParser from 'range-parser';
import {
  CODEX_DIR,
  FileMissingError,
  InvalidPathError,
  isInsideDirectory,
  openWorkspaceFile,
  resolveInsideWorkspace,
  type OpenedWorkspaceFile,
} from '@cwo/workspace';
import { HttpError, notFound } from '../http/errors';
import { listDirectory, renderDirectoryIndex } from './directory-index';

// A workspace served as a static site. Hand-written over the workspace's file policy rather than
// `send`/express.static: those open files by path, following any symlink an agent planted between
// the check and the open; openWorkspaceFile opens with O_NOFOLLOW and checks the descriptor.

const INDEX = 'index.html';

/** The workspace file the URL path names ("" and "…/" mean their index.html). */
function requestedPath(urlPath: string): string {
  const relative = urlPath.replace(/^\/+/, '');
  return relative === '' || relative.endsWith('/') ? `${relative}${INDEX}` : relative;
}

const isCodexPath = (relative: string): boolean => relative === CODEX_DIR || relative.startsWith(`${CODEX_DIR}/`);

/** Opens the file, or null when the policy or the filesystem says there is none to serve. */
async function openServable(workspace: string, userPath: string): Promise<OpenedWorkspaceFile | null> {
  let file: OpenedWorkspaceFile;
  try {
    file = await openWorkspaceFile(workspace, userPath);
  } catch (err) {
    if (err instanceof InvalidPathError || err instanceof FileMissingError) return null;
    throw err;
  }
  // .codex/ holds the agent's instructions, results and logs: never part of the site, also not
  // through a link to it (the descriptor's real path is what counts).
  const real = await fs.readlink(`/proc/self/fd/${file.handle.fd}`).catch(() => null);
  const root = await fs.realpath(workspace);
  const realRelative = real && isInsideDirectory(root, real) ? path.relative(root, real).split(path.sep).join('/') : '';
  if (isCodexPath(file.relative) || isCodexPath(realRelative)) {
    await file.handle.close();
    return null;
  }
  return file;
}

const notFoundHere = () => notFound('Not found in this preview');

/** The real path of a directory of the workspace the policy allows ("" is the root), or null. */
async function servableDirectory(workspace: string, relative: string): Promise<{ root: string; real: string } | null> {
  try {
    const root = await fs.realpath(workspace);
    const real = relative === '' ? root : (await resolveInsideWorkspace(workspace, relative)).absolute;
    const realRelative = path.relative(root, real).split(path.sep).join('/');
    if (isCodexPath(realRelative) || !(await fs.stat(real)).isDirectory()) return null;
    return { root, real };
  } catch (err) {
    if (err instanceof InvalidPathError || err instanceof FileMissingError) return null;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The bytes of a file of no known type looked at to tell text from binary. */
const SNIFF_BYTES = 8192;

/**
 * Content-Type by extension, with a charset for text. A file of no registered type (the sources of
 * a .py, .rs or .go project) is text/plain when its first bytes are UTF-8 without NULs, so that it
 * opens as text (from the directory page) rather than downloads; else application/octet-stream.
 */
async function contentTypeOf(file: OpenedWorkspaceFile): Promise<string> {
  const known = mime.contentType(path.extname(file.relative));
  if (known) return known;
  const head = Buffer.alloc(Math.min(file.size, SNIFF_BYTES));
  const { bytesRead } = await file.handle.read(head, 0, head.length, 0);
  const bytes = head.subarray(0, bytesRead);
  if (bytes.includes(0)) return 'application/octet-stream';
  try {
    // stream: a character cut at the end of the sample is not an error (the end of the file is).
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: file.size > bytes.length });
    return 'text/plain; charset=utf-8';
  } catch {
    return 'application/octet-stream';
  }
}

/**
 * GET/HEAD of a path of the preview: the file (index.html for a directory, else a page listing
 * it), its type, ETag and Last-Modified, 304 when the client's copy is fresh, and one byte range
 * (206) on request.
 */
export async function serveStaticPreview(req: Request, res: Response, workspace: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new HttpError(405, 'A static preview answers GET and HEAD only', { Allow: 'GET, HEAD' });
  }
  const urlPath = req.path;
  // A path that names nothing the policy allows (traversal, .codex) gets the same 404 as a missing
  // file: a site has no use for the difference.
  if (isCodexPath(urlPath.replace(/^\/+/, '').replace(/\/+$/, ''))) throw notFoundHere();
  const file = await openServable(workspace, requestedPath(urlPath));
  if (!file) {
    const relative = urlPath.replace(/^\/+/, '').replace(/\/+$/, '');
    const directory = await servableDirectory(workspace, relative);
    if (directory && !urlPath.endsWith('/')) {
      // A directory named without its slash: send the browser to it, so relative links resolve.
      const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
      res.redirect(301, `${urlPath}/${query}`);
      return;
    }
    const listing = directory && (await listDirectory(directory.root, directory.real));
    if (!listing) throw notFoundHere();
    const page = Buffer.from(renderDirectoryIndex(urlPath, listing));
    res.status(200).set({ 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(page.length) });
    res.end(req.method === 'HEAD' ? undefined : page);
    return;
  }
  try {
    await sendOpened(req, res, file);
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

async function sendOpened(req: Request, res: Response, file: OpenedWorkspaceFile): Promise<void> {
  const stat = await file.handle.stat();
  const size = file.size;
  const etag = `W/"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const lastModified = stat.mtime.toUTCString();
  res.set({
    'Content-Type': await contentTypeOf(file),
    ETag: etag,
    'Last-Modified': lastModified,
    'Accept-Ranges': 'bytes',
  });
  if (fresh(req.headers, { etag, 'last-modified': lastModified })) {
    res.status(304).end();
    return;
  }
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = req.headers.range;
  const ifRange = req.headers['if-range'];
  const rangeApplies = range !== undefined && (ifRange === undefined || ifRange === etag || ifRange === lastModified);
  if (rangeApplies && size > 0) {
    const ranges = rangeParser(size, range, { combine: true });
    if (ranges === -1) {
      res.status(416).set('Content-Range', `bytes */${size}`).end();
      return;
    }
    // Malformed ranges are ignored (RFC 9110 allows it); several ranges get the whole file, which
    // is also allowed and spares a multipart body nobody's dev server needs.
    if (Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1) {
      start = ranges[0]!.start;
      end = ranges[0]!.end;
      status = 206;
      res.set('Content-Range', `bytes ${start}-${end}/${size}`);
    }
  }
  const length = size === 0 ? 0 : end - start + 1;
  res.status(status).set('Content-Length', String(length));
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  // autoClose off: the caller closes the handle, whether or not the stream finished.
  const body = file.handle.createReadStream({ start, end, autoClose: false });
  try {
    await pipeline(body, res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
  }
}
