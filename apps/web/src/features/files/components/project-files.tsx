import { useSearchParams } from 'wouter';
import { ErrorMessage } from '../../../components/error-message';
import { useFiles } from '../api/get-files';
import { FileTree } from './file-tree';
import { FileViewer } from './lazy-file-viewer';

/** The workspace: the tree, and the chosen file (`?file=<path>`). */
export function ProjectFiles({ projectId, active }: { projectId: string; active: boolean }) {
  const { data, error, isPending } = useFiles(projectId, active);
  const [params, setParams] = useSearchParams();
  const selected = params.get('file') ?? undefined;
  const select = (path: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        next.set('file', path);
        return next;
      },
      { replace: true },
    );

  return (
    <section className="card" aria-labelledby="files-title">
      <h3 id="files-title">Files</h3>
      {isPending && <p className="muted">Loading the files…</p>}
      {error && <ErrorMessage error={error} prefix="The files could not be listed." />}
      {data && data.files.length === 0 && <p className="empty">No files yet.</p>}
      {data && data.files.length > 0 && (
        <div className="files-columns">
          <FileTree files={data.files} selected={selected} onSelect={select} />
          {selected ? (
            <FileViewer
              projectId={projectId}
              path={selected}
              size={data.files.find((f) => f.path === selected)?.size}
            />
          ) : (
            <p className="muted">Choose a file to read it.</p>
          )}
        </div>
      )}
    </section>
  );
}
