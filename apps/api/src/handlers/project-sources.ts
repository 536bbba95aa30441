import crypto from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import {
  importDir,
  parseRemoteUrl,
  RemoteRefused,
  resolveRemote,
  sniffArchiveFormat,
  sshKeyProblem,
  systemLookup,
  uploadFile,
  writeCredential,
  writeSshCredentials,
  type Lookup,
} from '@cwo/code-io';
import { ProjectCreate, type GitSource, type ProjectSource } from '@cwo/contracts';
import type { AppServices } from '../deps';
import { HttpError, validationFailed } from '../http/errors';
import { parseOr422 } from '../http/validation';

// What POST /projects takes besides the instruction: a git source (checked here, fetched by the
// runner) or an uploaded archive (streamed to WORKSPACE_ROOT/.runner/imports/<id>/upload, at most
// MAX_IMPORT_BYTES, unpacked by the runner). The API never fetches or unpacks anything itself.

/** Media types of an archive sent as the raw body. */
const RAW_ARCHIVE_TYPES = new Set([
  'application/gzip',
  'application/x-gzip',
  'application/x-tar+gzip',
  'application/x-compressed-tar',
  'application/zip',
  'application/x-zip-compressed',
  'application/octet-stream',
]);
export const isUploadType = (mediaType: string): boolean =>
  mediaType === 'multipart/form-data' || RAW_ARCHIVE_TYPES.has(mediaType);

/** OpenAPI: the two ways of sending an archive. */
export const UPLOAD_DOC: Record<string, Record<string, unknown>> = {
  'multipart/form-data': {
    type: 'object',
    required: ['instruction', 'archive'],
    properties: {
      instruction: { type: 'string', minLength: 5, maxLength: 2000 },
      archive: { type: 'string', format: 'binary', description: 'a tar.gz or zip archive, at most MAX_IMPORT_BYTES' },
    },
  },
  'application/gzip': {
    type: 'string',
    format: 'binary',
    description: 'a tar.gz archive as the body (also application/zip for a zip); the instruction in ?instruction=',
  },
  'application/zip': { type: 'string', format: 'binary', description: 'a zip archive as the body' },
};

const issue = (loc: Array<string | number>, msg: string, type: string) => validationFailed([{ loc, msg, type }]);

/** Checks a git source's URL and where it points; stores the token for the runner. 422 when refused. */
export async function prepareGitSource(
  deps: Pick<AppServices, 'config'> & { lookup?: Lookup },
  projectId: string,
  git: GitSource,
): Promise<ProjectSource> {
  const rules = { allowPrivateHosts: deps.config.IMPORT_ALLOW_PRIVATE_HOSTS, allowHttp: deps.config.IMPORT_ALLOW_HTTP };
  let display: string;
  let remote: ReturnType<typeof parseRemoteUrl>;
  try {
    remote = parseRemoteUrl(git.url, rules);
    await resolveRemote(remote, rules, deps.lookup ?? systemLookup);
    if (git.token && remote.scheme !== 'https' && remote.scheme !== 'http')
      throw new RemoteRefused('a token is used with https URLs only');
    if ((git.ssh_key || git.known_hosts) && remote.scheme !== 'ssh')
      throw new RemoteRefused('an ssh key or known_hosts is used with ssh URLs only');
    display = remote.display;
  } catch (err) {
    if (err instanceof RemoteRefused) throw issue(['body', 'source', 'git', 'url'], err.message, 'value_error');
    throw err;
  }
  const keyProblem = git.ssh_key ? sshKeyProblem(git.ssh_key) : null;
  if (keyProblem) throw issue(['body', 'source', 'git', 'ssh_key'], keyProblem, 'value_error');
  const token = git.token ?? remote.credential?.password;
  if (token) writeCredential(deps.config.workspaceRoot, projectId, token);
  if (git.ssh_key || git.known_hosts)
    writeSshCredentials(deps.config.workspaceRoot, projectId, { key: git.ssh_key, knownHosts: git.known_hosts });
  return { kind: 'git', url: display, ref: git.ref ?? null, submodules: git.submodules ?? false };
}

export interface ReceivedUpload {
  instruction: string;
  source: ProjectSource;
}

/** Counts, hashes and caps the bytes that go through. */
function meter(limit: number, hash: crypto.Hash, seen: { bytes: number; head: Buffer }) {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen.bytes += chunk.length;
      if (seen.bytes > limit) return done(tooLarge(limit));
      if (seen.head.length < 4) seen.head = Buffer.concat([seen.head, chunk.subarray(0, 4 - seen.head.length)]);
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

const tooLarge = (limit: number) => new HttpError(413, `The archive is larger than ${limit} bytes (MAX_IMPORT_BYTES)`);

/**
 * Receives an uploaded archive (multipart/form-data with `instruction` and `archive`, or the raw
 * body with ?instruction=) into the project's import directory; 413 past MAX_IMPORT_BYTES, 422
 * when the instruction is invalid or the bytes are no tar.gz or zip. Nothing is kept on failure.
 */
export async function receiveUpload(
  deps: Pick<AppServices, 'config'>,
  projectId: string,
  req: IncomingMessage,
  queryInstruction: unknown,
): Promise<ReceivedUpload> {
  const limit = deps.config.MAX_IMPORT_BYTES;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit + 64 * 1024) throw tooLarge(limit);
  const dir = importDir(deps.config.workspaceRoot, projectId);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const partial = path.join(dir, 'upload.partial');
  const hash = crypto.createHash('sha256');
  const seen = { bytes: 0, head: Buffer.alloc(0) };
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  let instruction: unknown = queryInstruction;
  let where: 'query' | 'body' = 'query';
  if (mediaType === 'multipart/form-data') {
    where = 'body';
    instruction = undefined;
    let gotFile = false;
    await new Promise<void>((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: req.headers, limits: { files: 1, fields: 8, fieldSize: 64 * 1024, parts: 10 } });
      } catch (err) {
        return reject(new HttpError(400, `The multipart body cannot be read: ${(err as Error).message}`));
      }
      let writing: Promise<void> = Promise.resolve();
      parser.on('field', (name, value) => {
        if (name === 'instruction') instruction = value;
      });
      parser.on('file', (name, file) => {
        if (name !== 'archive') {
          file.resume();
          return;
        }
        gotFile = true;
        writing = pipeline(file, meter(limit, hash, seen), fs.createWriteStream(partial, { mode: 0o600 }));
        writing.catch((err: unknown) => {
          req.unpipe(parser);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      });
      parser.on('error', (err: Error) =>
        reject(new HttpError(400, `The multipart body cannot be read: ${err.message}`)),
      );
      parser.on('close', () => void writing.then(resolve, reject));
      req.pipe(parser);
      req.on('error', reject);
    }).catch((err: unknown) => {
      req.resume();
      throw err;
    });
    if (!gotFile) throw issue(['body', 'archive'], 'Field required: the archive file (a tar.gz or zip)', 'missing');
  } else {
    await pipeline(req, meter(limit, hash, seen), fs.createWriteStream(partial, { mode: 0o600 })).catch(
      (err: unknown) => {
        req.resume();
        throw err;
      },
    );
  }
  const { instruction: valid } = parseOr422(ProjectCreate.pick({ instruction: true }), { instruction }, where);
  const format = sniffArchiveFormat(seen.head);
  if (!format)
    throw issue(
      where === 'body' ? ['body', 'archive'] : ['body'],
      'The upload is neither a tar.gz nor a zip archive',
      'value_error',
    );
  fs.renameSync(partial, uploadFile(deps.config.workspaceRoot, projectId));
  return { instruction: valid, source: { kind: 'archive', format, bytes: seen.bytes, sha256: hash.digest('hex') } };
}
