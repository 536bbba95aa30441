import fs, { constants } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import archiver from 'archiver';
import { CODEX_DIR } from '@cwo/workspace';

// A workspace as an archive (tar.gz or zip), streamed as it is made (archiver: the tar and zip
// writers, gzip and the zip deflate; we only choose what goes in).
//
// The agent owns the workspace, so what is in it is untrusted: nothing is followed. A symlink goes
// in as a symlink (its target as written, never read through), a regular file is opened without
// following links and without waiting on a FIFO, and FIFOs, sockets and devices are left out.
// The walk happens first, so that an export over its limits is refused before a byte is sent.

export type ArchiveFormat = 'tar.gz' | 'zip';
export const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ['tar.gz', 'zip'];

export const ARCHIVE_MEDIA_TYPES: Record<ArchiveFormat, string> = {
  'tar.gz': 'application/gzip',
  zip: 'application/zip',
};

export interface ExportLimits {
  /** Files (and links) an archive may hold. */
  maxFiles: number;
  /** Their total size before compression. */
  maxBytes: number;
}

/** An export that would pass its limits (the API answers 409 with this message). */
export class ExportTooLarge extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportTooLarge';
  }
}

type Entry =
  | { kind: 'dir'; rel: string; mode: number; mtime: Date }
  | { kind: 'file'; rel: string; mode: number; mtime: Date; size: number }
  | { kind: 'link'; rel: string; mode: number; mtime: Date; target: string };

export interface ExportPlan {
  workspace: string;
  entries: Entry[];
  files: number;
  bytes: number;
}

/**
 * What an archive of the workspace will hold: every directory, regular file and symlink, sorted by
 * path, `.codex/` left out unless `includeCodex`. Throws ExportTooLarge past the limits.
 */
export function planWorkspaceExport(
  workspace: string,
  opts: { includeCodex: boolean; limits: ExportLimits },
): ExportPlan {
  const plan: ExportPlan = { workspace, entries: [], files: 0, bytes: 0 };
  const { maxFiles, maxBytes } = opts.limits;
  const walk = (rel: string) => {
    let dirents: fs.Dirent[];
    try {
      dirents = fs.readdirSync(path.join(workspace, rel), { withFileTypes: true });
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return; // gone meanwhile
      throw err;
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      if (!rel && d.name === CODEX_DIR && !opts.includeCodex) continue;
      const abs = path.join(workspace, childRel);
      const st = fs.lstatSync(abs, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        plan.entries.push({ kind: 'dir', rel: childRel, mode: st.mode & 0o7777, mtime: st.mtime });
        walk(childRel);
        continue;
      }
      if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = fs.readlinkSync(abs);
        } catch {
          continue;
        }
        plan.entries.push({ kind: 'link', rel: childRel, mode: 0o777, mtime: st.mtime, target });
      } else if (st.isFile()) {
        plan.entries.push({ kind: 'file', rel: childRel, mode: st.mode & 0o7777, mtime: st.mtime, size: st.size });
        plan.bytes += st.size;
      } else {
        continue; // FIFOs, sockets, devices: nothing an archive of code should carry
      }
      plan.files++;
      if (plan.files > maxFiles)
        throw new ExportTooLarge(`the workspace holds more than ${maxFiles} files (EXPORT_MAX_FILES)`);
      if (plan.bytes > maxBytes)
        throw new ExportTooLarge(`the workspace holds more than ${maxBytes} bytes (EXPORT_MAX_BYTES)`);
    }
  };
  walk('');
  return plan;
}

/** Opens a regular file without following a link or waiting on a FIFO; null when it is not one now. */
function openRegular(abs: string): { fd: number; size: number } | null {
  let fd: number;
  try {
    fd = fs.openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null; // replaced by a link, or removed, since the walk
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    return null;
  }
  return { fd, size: st.size };
}

/**
 * Streams the planned archive. Entries go in one at a time (a file is opened only when the archive
 * reaches it), under `prefix/`. A file that changed size since the walk goes in as it is now (tar
 * headers are written from the open file's size). A failure half-way destroys the stream.
 */
export function streamWorkspaceArchive(plan: ExportPlan, format: ArchiveFormat, prefix: string): Readable {
  const archive =
    format === 'zip'
      ? archiver('zip', { zlib: { level: 6 } })
      : archiver('tar', { gzip: true, gzipOptions: { level: 6 } });
  const out = new PassThrough();
  archive.on('error', (err) => out.destroy(err));
  archive.on('warning', (err) => out.destroy(err));
  archive.pipe(out);
  const name = (rel: string) => `${prefix}/${rel}`;
  let failed: Error | null = null;
  let entered: (() => void) | null = null;
  archive.on('entry', () => entered?.());
  archive.on('error', (err) => {
    failed = err;
    entered?.();
  });
  const feed = async () => {
    for (const e of plan.entries) {
      if (out.destroyed || failed) return;
      const added = new Promise<void>((resolve) => (entered = resolve));
      if (e.kind === 'dir') {
        // `type` is archiver's (TarEntryData) but missing from its published types.
        const dir = { name: `${name(e.rel)}/`, type: 'directory', mode: e.mode, date: e.mtime };
        archive.append('', dir);
      } else if (e.kind === 'link') {
        archive.symlink(name(e.rel), e.target, e.mode);
      } else {
        const opened = openRegular(path.join(plan.workspace, e.rel));
        if (!opened) continue;
        const { fd, size } = opened;
        const source =
          size === 0
            ? (fs.closeSync(fd), Buffer.alloc(0))
            : fs.createReadStream('', { fd, start: 0, end: size - 1, autoClose: true });
        archive.append(source, {
          name: name(e.rel),
          mode: e.mode,
          date: e.mtime,
          // The size tar needs up front: the open file's, not the walk's.
          stats: { size, mode: e.mode, mtime: e.mtime, isFile: () => true, isDirectory: () => false } as fs.Stats,
        });
      }
      // One entry at a time: a file is opened only when the archive reaches it.
      await added;
    }
    if (!failed) await archive.finalize();
  };
  feed().catch((err: unknown) => out.destroy(err as Error));
  out.once('close', () => {
    if (!out.writableFinished) archive.abort();
  });
  return out;
}
