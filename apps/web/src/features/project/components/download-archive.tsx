import { API_PREFIX } from '../../../lib/api-client';
import { projectPath } from '../api/get-project';

/**
 * Download links for the workspace as an archive (GET …/archive): plain links, so the browser
 * streams the file itself with the session cookie; `.codex/` is left out.
 */
export function DownloadArchive({ projectId }: { projectId: string }) {
  const href = (format: 'tar.gz' | 'zip') => `${API_PREFIX}${projectPath(projectId)}/archive?format=${format}`;
  return (
    <p className="download-archive">
      <span>Download the code:</span>{' '}
      <a className="button" href={href('tar.gz')} download>
        tar.gz
      </a>{' '}
      <a className="button" href={href('zip')} download>
        zip
      </a>
    </p>
  );
}
