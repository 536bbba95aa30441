import { FileContent } from '@cwo/contracts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { API_PREFIX, errorOf, NetworkError } from '../../../lib/api-client';
import { filesPath } from './get-files';

/** A file as the viewer shows it: text, or only what it takes to offer it as a download. */
export type ViewedFile = { kind: 'text'; path: string; contents: string } | { kind: 'download'; path: string };

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/** Where the raw bytes are (streamed by the API): the download link. */
export const rawFileUrl = (projectId: string, path: string) =>
  `${API_PREFIX}${filesPath(projectId)}/${encodePath(path)}?raw=1`;

/**
 * The API answers UTF-8 text up to MAX_TEXT_FILE_BYTES as JSON and streams anything else raw: a
 * raw answer is not read here (its body is cancelled), the viewer offers a download instead.
 */
async function readFile(projectId: string, path: string, signal: AbortSignal): Promise<ViewedFile> {
  let res: Response;
  try {
    res = await fetch(`${API_PREFIX}${filesPath(projectId)}/${encodePath(path)}`, {
      signal,
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new NetworkError(err);
  }
  if (!res.ok) throw await errorOf(res);
  if (!(res.headers.get('Content-Type') ?? '').includes('application/json')) {
    await res.body?.cancel();
    return { kind: 'download', path };
  }
  const file = FileContent.parse(await res.json());
  return { kind: 'text', path: file.path, contents: file.contents };
}

export function fileQueryOptions(projectId: string, path: string) {
  return queryOptions({
    queryKey: ['project', projectId, 'file', path],
    queryFn: ({ signal }) => readFile(projectId, path, signal),
  });
}

export function useFile(projectId: string, path: string) {
  return useQuery(fileQueryOptions(projectId, path));
}
