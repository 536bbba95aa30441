import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import { buildTree, formatSize, visibleRows } from '../lib/file-tree';

const ROW_PX = 28;

interface Props {
  files: readonly { path: string; size: number }[];
  selected: string | undefined;
  onSelect: (path: string) => void;
}

/**
 * The workspace as a tree: folders open and close, `.codex` (the runner's files) behind a toggle,
 * sizes beside names; only the rows in view are in the page, so 20,000 files stay quick.
 */
export function FileTree({ files, selected, onSelect }: Props) {
  const tree = useMemo(() => buildTree(files), [files]);
  const [open, setOpen] = useState<ReadonlySet<string>>(() => new Set());
  const [showCodex, setShowCodex] = useState(false);
  const rows = useMemo(() => visibleRows(tree, open, showCodex), [tree, open, showCodex]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_PX,
    overscan: 20,
  });

  const toggle = (path: string) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });

  return (
    <div className="file-tree">
      <label className="inline-check">
        <input type="checkbox" checked={showCodex} onChange={(e) => setShowCodex(e.target.checked)} /> Show .codex (the
        runner’s files)
      </label>
      <p className="muted">
        {files.length.toLocaleString('en')} file{files.length === 1 ? '' : 's'}
      </p>
      <div ref={scrollRef} className="tree-scroll" role="navigation" aria-label="Files">
        <div className="tree-rows" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const { node, depth, open: isOpen } = rows[item.index]!;
            const folder = node.children !== undefined;
            return (
              <button
                key={node.path}
                type="button"
                className={`tree-row${node.path === selected ? ' selected' : ''}`}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_PX, paddingLeft: `${0.5 + depth}rem` }}
                aria-expanded={folder ? isOpen : undefined}
                aria-current={node.path === selected ? 'true' : undefined}
                onClick={() => (folder ? toggle(node.path) : onSelect(node.path))}
              >
                <span className="tree-name">
                  <span aria-hidden="true">{folder ? (isOpen ? '▾ ' : '▸ ') : '  '}</span>
                  {node.name}
                  {folder ? '/' : ''}
                </span>
                <span className="tree-size muted">{formatSize(node.size)}</span>
              </button>
            );
          })}
        </div>
      </div>
    </div>
  );
}
