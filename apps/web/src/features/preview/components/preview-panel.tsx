import type { Preview } from '@cwo/contracts';
import { useId, useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message';
import { usePreview, useStartPreview, useStopPreview } from '../api/preview';

// The project's preview in a sandboxed iframe (the agent's pages are hostile: no allow-same-origin,
// no top navigation; the preview's own CSP says the same), with the Start/Stop control of its server.

/** The iframe's sandbox: the same as the Content-Security-Policy the preview origin answers with. */
export const PREVIEW_SANDBOX = 'allow-scripts allow-forms allow-popups allow-modals';

const STATUS_TEXT: Record<Preview['status'], string> = {
  starting: 'Starting',
  running: 'Running',
  stopped: 'Stopped',
  failed: 'Failed',
};

function describe(preview: Preview): string {
  if (preview.kind === 'static') return 'The workspace’s files, served as a site';
  return `Server: ${preview.command ?? ''} on port ${preview.port ?? ''}`;
}

function ServerControl({ projectId, preview }: { projectId: string; preview: Preview }) {
  const start = useStartPreview(projectId);
  const stop = useStopPreview(projectId);
  const [command, setCommand] = useState(preview.command ?? '');
  const [port, setPort] = useState(preview.port ? String(preview.port) : '');
  const commandId = useId();
  const portId = useId();
  const active = preview.kind === 'server' && (preview.status === 'starting' || preview.status === 'running');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    // Both empty: the server the agent named in result.json (or the static preview without one).
    const spec = command.trim() ? { command: command.trim(), port: Number(port) } : undefined;
    start.mutate(spec);
  };

  return (
    <form className="preview-control" onSubmit={submit} aria-label="Preview server">
      <label htmlFor={commandId}>Command</label>
      <input
        id={commandId}
        type="text"
        value={command}
        onChange={(e) => setCommand(e.target.value)}
        placeholder="the agent’s (result.json), e.g. node server.js"
      />
      <label htmlFor={portId}>Port</label>
      <input
        id={portId}
        type="text"
        inputMode="numeric"
        pattern="[0-9]*"
        value={port}
        onChange={(e) => setPort(e.target.value)}
        placeholder="3000"
        required={command.trim() !== ''}
      />
      <button type="submit" disabled={start.isPending}>
        {active ? 'Restart' : 'Start server'}
      </button>
      {active && (
        <button type="button" className="secondary" onClick={() => stop.mutate()} disabled={stop.isPending}>
          Stop server
        </button>
      )}
      {start.error && <ErrorMessage error={start.error} prefix="The server could not be started." />}
      {stop.error && <ErrorMessage error={stop.error} prefix="The server could not be stopped." />}
    </form>
  );
}

/** The Preview tab: what the agent built, opened in a sandboxed frame or a tab of its own. */
export function PreviewPanel({ projectId }: { projectId: string }) {
  const { data: preview, error, isPending } = usePreview(projectId);
  if (isPending) return <p className="muted">Loading the preview…</p>;
  if (!preview) return <ErrorMessage error={error} prefix="The preview could not be loaded." />;
  const server = preview.kind === 'server';
  return (
    <div className="preview">
      {/* Not .meta: this line is long, and must wrap at 375 px. */}
      <p>
        {server && <span className={`status preview-status-${preview.status}`}>{STATUS_TEXT[preview.status]}</span>}{' '}
        <span>{describe(preview)}</span>{' '}
        <a href={preview.preview_url} target="_blank" rel="noopener noreferrer">
          Open in a new tab
        </a>
      </p>
      {server && preview.reason && <p className="muted">Why: {preview.reason}</p>}
      <ServerControl key={preview.kind} projectId={projectId} preview={preview} />
      {/* A new frame when the server starts or stops: what it shows changes with it. */}
      <iframe
        key={`${preview.kind}-${preview.status}-${preview.started_at ?? ''}`}
        className="preview-frame"
        title="Preview of the project"
        src={preview.preview_url}
        sandbox={PREVIEW_SANDBOX}
        referrerPolicy="no-referrer"
      />
      {server && (
        <details className="preview-log" open={preview.status === 'failed'}>
          <summary>Server log</summary>
          <pre>{preview.log || '(no output yet)'}</pre>
        </details>
      )}
      {error && <ErrorMessage error={error} prefix="Could not refresh the preview." />}
    </div>
  );
}
