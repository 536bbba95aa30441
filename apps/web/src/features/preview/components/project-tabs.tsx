import { useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useSearchParams } from 'wouter';
import { PreviewPanel } from './preview-panel';

// The project page's Files | Preview tabs (WAI-ARIA tabs: arrows move between them, one tab stop).
// The choice is in the address (?tab=preview), so a preview can be linked to and survives a reload.

const TABS = [
  { id: 'files', label: 'Files' },
  { id: 'preview', label: 'Preview' },
] as const;
type TabId = (typeof TABS)[number]['id'];

export function ProjectTabs({ projectId, files }: { projectId: string; files: ReactNode }) {
  const [params, setParams] = useSearchParams();
  const selected: TabId = params.get('tab') === 'preview' ? 'preview' : 'files';
  const base = useId();
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const choose = (id: TabId) => {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (id === 'files') next.delete('tab');
        else next.set('tab', id);
        return next;
      },
      { replace: true },
    );
    refs.current[id]?.focus();
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const at = TABS.findIndex((t) => t.id === selected);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    choose(TABS[(at + step + TABS.length) % TABS.length]!.id);
  };
  return (
    <div className="project-tabs">
      <div role="tablist" aria-label="Workspace" className="tabs" onKeyDown={onKeyDown}>
        {TABS.map((tab) => (
          <button
            key={tab.id}
            ref={(el) => {
              refs.current[tab.id] = el;
            }}
            type="button"
            role="tab"
            id={`${base}-${tab.id}-tab`}
            aria-selected={selected === tab.id}
            aria-controls={`${base}-${tab.id}`}
            tabIndex={selected === tab.id ? 0 : -1}
            className={selected === tab.id ? 'tab tab-selected' : 'tab'}
            onClick={() => choose(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {/* Files stay mounted (their open file and scroll survive a look at the preview). */}
      <div role="tabpanel" id={`${base}-files`} aria-labelledby={`${base}-files-tab`} hidden={selected !== 'files'}>
        {files}
      </div>
      {selected === 'preview' && (
        <section className="card" role="tabpanel" id={`${base}-preview`} aria-labelledby={`${base}-preview-tab`}>
          <PreviewPanel projectId={projectId} />
        </section>
      )}
    </div>
  );
}
