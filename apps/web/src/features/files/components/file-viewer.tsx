import type { ThemedToken } from 'shiki/core';
import { useEffect, useState } from 'react';
import { ErrorMessage } from '../../../components/error-message';
import { rawFileUrl, useFile } from '../api/get-file';
import { formatSize } from '../lib/file-tree';

/** Larger text is shown plain: highlighting a megabyte on the main thread would stall the page. */
const MAX_HIGHLIGHT_CHARS = 200_000;

/** Highlighted lines once Shiki (loaded on demand) has them; plain text until then. */
function useTokens(path: string, contents: string): ThemedToken[][] | undefined {
  const [tokens, setTokens] = useState<ThemedToken[][] | undefined>(undefined);
  useEffect(() => {
    if (contents.length > MAX_HIGHLIGHT_CHARS) return;
    let current = true;
    void import('../lib/highlight').then(async ({ highlight, languageOf }) => {
      const language = languageOf(path);
      if (!language) return;
      const result = await highlight(contents, language);
      if (current) setTokens(result);
    });
    return () => {
      current = false;
    };
  }, [path, contents]);
  return tokens;
}

/** The agent's text, always as text (never as HTML): untrusted, so nothing in it can run. */
function Code({ path, contents }: { path: string; contents: string }) {
  const tokens = useTokens(path, contents);
  const lines = tokens ?? contents.split('\n').map((text) => [{ content: text } as ThemedToken]);
  return (
    <pre className="code" tabIndex={0} aria-label={`Contents of ${path}`}>
      {lines.map((line, i) => (
        <span key={i} className="code-line">
          <span className="line-number" aria-hidden="true">
            {i + 1}
          </span>
          {line.map((token, j) => (
            <span key={j} style={token.htmlStyle as React.CSSProperties | undefined}>
              {token.content}
            </span>
          ))}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

/** One file: highlighted by language, or offered as a download when it is binary or large. */
export function FileViewer({ projectId, path, size }: { projectId: string; path: string; size: number | undefined }) {
  const { data: file, error, isPending } = useFile(projectId, path);
  return (
    <section className="file-viewer" aria-labelledby="file-title">
      <div className="viewer-bar">
        <h4 id="file-title">
          <code>{path}</code>
        </h4>
        <a href={rawFileUrl(projectId, path)} download={path.split('/').pop()}>
          Download{size !== undefined ? ` (${formatSize(size)})` : ''}
        </a>
      </div>
      {isPending && <p className="muted">Loading…</p>}
      {error && <ErrorMessage error={error} prefix="The file could not be read." />}
      {file?.kind === 'download' && (
        <p className="muted">This file is binary or too large to show here; download it to look at it.</p>
      )}
      {file?.kind === 'text' && <Code key={path} path={file.path} contents={file.contents} />}
    </section>
  );
}
