import type { ReactNode } from 'react';
import { Link } from 'wouter';
import { SessionControl } from '../features/session/components/session-control';

/** The frame of every view: the name, the links to the API's own pages, and the view. */
export function Layout({ children }: { children: ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <h1 className="app-name">
          <Link href="/">Codex Workspace Orchestrator</Link>
        </h1>
        <nav aria-label="API pages">
          <a href="/docs/">API docs</a>
          <a href="/admin/queues">Queues (admins)</a>
        </nav>
        <SessionControl />
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
