import accepts from 'accepts';
import type { FileContent, FileList, FileReadQuery } from '@cwo/contracts';
import {
  FileMissingError,
  InvalidPathError,
  listWorkspaceFiles,
  openWorkspaceFile,
  readSmallText,
  type OpenedWorkspaceFile,
} from '@cwo/workspace';
import { badRequest, notFound } from '../http/errors';
import { empty, file as fileReply, json, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import { workspaceOf } from '../workspace-dirs';
import { requireProject } from './lookups';

/** GET …/files: every file of the workspace with its size, sorted by path. */
export async function listFiles({ deps, params, principal }: RequestContext): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const list: FileList = { files: await listWorkspaceFiles(workspaceOf(deps.config, project.id)) };
  return json(200, list);
}

const OCTET_STREAM = 'application/octet-stream';

/** Raw bytes asked for explicitly: `?raw=1`, or an Accept that prefers octet-stream over JSON. */
function wantsRaw(query: FileReadQuery, accept: string | undefined): boolean {
  if (query.raw) return true;
  if (!accept) return false;
  return accepts({ headers: { accept } } as never).type(['application/json', OCTET_STREAM]) === OCTET_STREAM;
}

async function open(workspace: string, rawPath: string): Promise<OpenedWorkspaceFile> {
  try {
    return await openWorkspaceFile(workspace, rawPath);
  } catch (err) {
    if (err instanceof InvalidPathError) throw badRequest('Invalid path');
    // Directories are not files either: 404, as for anything that is not a file.
    if (err instanceof FileMissingError) throw notFound('File not found');
    throw err;
  }
}

/**
 * GET …/files/{path}, under the file access policy of docs/http-api.md (400 "Invalid path" for any escape,
 * 404 "File not found" for a safe path with no file). UTF-8 text up to MAX_TEXT_FILE_BYTES comes
 * as `{path, contents}`; binary or larger files, or raw on request, are streamed as
 * application/octet-stream, never held in memory whole.
 *
 * The path is taken from the URL as sent (still percent-encoded) and decoded by the policy
 * itself, so encoded and double-encoded traversal are judged on what they decode to.
 */
export async function readFile({
  deps,
  params,
  rawWildcard,
  query,
  headers,
  principal,
}: RequestContext<unknown, FileReadQuery>): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const file = await open(workspaceOf(deps.config, project.id), rawWildcard ?? params.path ?? '');
  try {
    if (!wantsRaw(query, headers.accept)) {
      const contents = await readSmallText(file, deps.config.MAX_TEXT_FILE_BYTES);
      if (contents !== null) {
        await file.handle.close();
        const body: FileContent = { path: file.relative, contents };
        return json(200, body);
      }
    }
  } catch (err) {
    await file.handle.close().catch(() => undefined);
    throw err;
  }
  const name = file.relative.split('/').pop()!;
  const rawHeaders = {
    'Content-Type': OCTET_STREAM,
    'Content-Length': String(file.size),
    'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    'X-Content-Type-Options': 'nosniff',
  };
  if (file.size === 0) {
    await file.handle.close();
    return empty(200, rawHeaders);
  }
  // Exactly the size announced, even if the file grows meanwhile; the adapter closes the handle.
  return fileReply(200, rawHeaders, file.handle, file.size);
}
