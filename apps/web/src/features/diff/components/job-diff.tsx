import { useMemo, useState } from 'react';
import { Diff, Hunk, parseDiff, type FileData } from 'react-diff-view';
import 'react-diff-view/style/index.css';
import { ErrorMessage } from '../../../components/error-message';
import { useDiff } from '../api/get-diff';

type View = 'split' | 'unified';

const fileName = (file: FileData) =>
  file.type === 'delete' ? file.oldPath : file.type === 'rename' ? `${file.oldPath} → ${file.newPath}` : file.newPath;

/** What one job changed, file by file, split or unified (react-diff-view over the API's git diff). */
export function JobDiff({ projectId, jobId }: { projectId: string; jobId: string }) {
  const { data, error, isPending } = useDiff(projectId, jobId);
  const [view, setView] = useState<View>('unified');
  const files = useMemo(() => (data ? parseDiff(data, { nearbySequences: 'zip' }) : []), [data]);

  return (
    <section className="job-diff" aria-labelledby={`diff-${jobId}`}>
      <div className="log-bar">
        <h3 id={`diff-${jobId}`}>Changes</h3>
        <div role="group" aria-label="Diff layout" className="toggle">
          {(['unified', 'split'] as const).map((v) => (
            <button key={v} type="button" className="secondary" aria-pressed={view === v} onClick={() => setView(v)}>
              {v === 'unified' ? 'Unified' : 'Split'}
            </button>
          ))}
        </div>
      </div>
      {isPending && <p className="muted">Loading the diff…</p>}
      {error && <ErrorMessage error={error} prefix="The diff could not be loaded." />}
      {data !== undefined && files.length === 0 && <p className="muted">This job changed no files.</p>}
      {files.map((file) => (
        <article key={`${file.oldRevision}-${file.newRevision}-${fileName(file)}`} className="diff-file">
          <h4>
            <code>{fileName(file)}</code> <span className="muted">({file.type})</span>
          </h4>
          {file.hunks.length === 0 ? (
            <p className="muted">Binary file, or only its mode changed.</p>
          ) : (
            <div className="diff-scroll">
              <Diff viewType={view} diffType={file.type} hunks={file.hunks}>
                {(hunks) => hunks.map((hunk) => <Hunk key={hunk.content} hunk={hunk} />)}
              </Diff>
            </div>
          )}
        </article>
      ))}
    </section>
  );
}
