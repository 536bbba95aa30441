import { useVirtualizer } from '@tanstack/react-virtual';
import { useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { buildTree, formatSize, treeKeyAction, visibleRows } from '../lib/file-tree';

const ROW_PX = 28;

interface Props {
  files: readonly { path: string; size: number }[];
  selected: string | undefined;
  onSelect: (path: string) => void;
}

/**
 * The workspace as a tree: folders open and close, `.codex` (the runner's files) behind a toggle,
 * sizes beside names; only the rows in view are in the page, so 20,000 files stay quick.
 * Keyboard as the WAI-ARIA tree pattern says: one tab stop (the tree), arrows move, open and
 * close, Home/End, Enter opens a file. The active row is the tree's aria-activedescendant rather
 * than a focused row, because a focused row scrolled out of the virtual list would be unmounted
 * and take the focus with it.
 */
export function FileTree({ files, selected, onSelect }: Props) {
  const tree = useMemo(() => buildTree(files), [files]);
  const [open, setOpen] = useState<ReadonlySet<string>>(() => new Set());
  const [showCodex, setShowCodex] = useState(false);
  const rows = useMemo(() => visibleRows(tree, open, showCodex), [tree, open, showCodex]);
  const codexFiles = useMemo(() => files.filter((f) => f.path.startsWith('.codex/')).length, [files]);
  const [activePath, setActivePath] = useState<string | undefined>(undefined);
  const idPrefix = useId();
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_PX,
    overscan: 20,
  });

  // The active row: the one moved to, else the open file, else the first; it stays a row in view.
  const found = rows.findIndex((r) => r.node.path === (activePath ?? selected));
  const active = found >= 0 ? found : 0;
  const rowId = (index: number) => `${idPrefix}-row-${index}`;

  const toggle = (path: string) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const action = treeKeyAction(rows, active, event.key);
    if (!action) return;
    event.preventDefault();
    if (action.kind === 'move') {
      setActivePath(rows[action.index]!.node.path);
      virtualizer.scrollToIndex(action.index);
    } else if (action.kind === 'toggle') toggle(action.path);
    else onSelect(action.path);
  };

  return (
    <div className="file-tree">
      <label className="inline-check">
        <input type="checkbox" checked={showCodex} onChange={(e) => setShowCodex(e.target.checked)} /> Show .codex (the
        runner’s files)
      </label>
      <p className="muted">{fileCount(files.length, codexFiles, showCodex)}</p>
      <div
        ref={scrollRef}
        className="tree-scroll"
        role="tree"
        aria-label="Files"
        tabIndex={0}
        aria-activedescendant={rows.length > 0 ? rowId(active) : undefined}
        onKeyDown={onKeyDown}
      >
        <div className="tree-rows" role="none" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const { node, depth, open: isOpen, position, siblings } = rows[item.index]!;
            const folder = node.children !== undefined;
            const classes = ['tree-row'];
            if (node.path === selected) classes.push('selected');
            if (item.index === active) classes.push('active');
            return (
              <div
                key={node.path}
                id={rowId(item.index)}
                role="treeitem"
                aria-level={depth + 1}
                aria-posinset={position}
                aria-setsize={siblings}
                aria-expanded={folder ? isOpen : undefined}
                aria-selected={node.path === selected}
                className={classes.join(' ')}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_PX, paddingLeft: `${0.5 + depth}rem` }}
                onClick={() => {
                  setActivePath(node.path);
                  if (folder) toggle(node.path);
                  else onSelect(node.path);
                }}
              >
                <span className="tree-name">
                  <span aria-hidden="true">{folder ? (isOpen ? '▾ ' : '▸ ') : '  '}</span>
                  {node.name}
                  {folder ? '/' : ''}
                </span>
                <span className="tree-size muted">{formatSize(node.size)}</span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

const plural = (n: number) => `${n.toLocaleString('en')} file${n === 1 ? '' : 's'}`;

/** The count says what the tree shows: `.codex`'s files only when they are shown too. */
function fileCount(total: number, codex: number, showCodex: boolean): string {
  if (showCodex || codex === 0) return plural(total);
  return `${plural(total - codex)} (${codex.toLocaleString('en')} more in .codex)`;
}
