// The flat listing ({path, size}) as a tree, and the rows a person sees of it: folders first,
// then files, by name; a folder's rows only while it is open.

export interface TreeNode {
  name: string;
  path: string;
  /** Files: their size; folders: the sum of what is inside. */
  size: number;
  children?: TreeNode[];
}

export interface TreeRow {
  node: TreeNode;
  depth: number;
  open: boolean;
  /** Its place among its siblings (1-based) and their number: a virtual list has not all in the page. */
  position: number;
  siblings: number;
}

const byFolderThenName = (a: TreeNode, b: TreeNode) =>
  Number(!a.children) - Number(!b.children) || a.name.localeCompare(b.name);

export function buildTree(files: readonly { path: string; size: number }[]): TreeNode[] {
  const root: TreeNode = { name: '', path: '', size: 0, children: [] };
  const folders = new Map<string, TreeNode>([['', root]]);
  for (const file of files) {
    const parts = file.path.split('/');
    let parent = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const path = parts.slice(0, i + 1).join('/');
      let folder = folders.get(path);
      if (!folder) {
        folder = { name: parts[i]!, path, size: 0, children: [] };
        folders.set(path, folder);
        parent.children!.push(folder);
      }
      parent = folder;
    }
    parent.children!.push({ name: parts[parts.length - 1]!, path: file.path, size: file.size });
  }
  const finish = (node: TreeNode): number => {
    if (!node.children) return node.size;
    node.children.sort(byFolderThenName);
    node.size = node.children.reduce((sum, child) => sum + finish(child), 0);
    return node.size;
  };
  finish(root);
  return root.children!;
}

/** The rows to draw: `.codex` only when asked for, a folder's children only when it is open. */
export function visibleRows(nodes: readonly TreeNode[], open: ReadonlySet<string>, showCodex: boolean): TreeRow[] {
  const rows: TreeRow[] = [];
  const walk = (all: readonly TreeNode[], depth: number) => {
    const list = depth === 0 && !showCodex ? all.filter((n) => n.name !== '.codex') : all;
    list.forEach((node, i) => {
      const isOpen = open.has(node.path);
      rows.push({ node, depth, open: isOpen, position: i + 1, siblings: list.length });
      if (node.children && isOpen) walk(node.children, depth + 1);
    });
  };
  walk(nodes, 0);
  return rows;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** What a key does in the tree (the WAI-ARIA tree pattern), given the rows and the active one. */
export type TreeKeyAction =
  { kind: 'move'; index: number } | { kind: 'toggle'; path: string } | { kind: 'open-file'; path: string };

export function treeKeyAction(rows: readonly TreeRow[], active: number, key: string): TreeKeyAction | undefined {
  const row = rows[active];
  if (!row) return rows.length > 0 ? { kind: 'move', index: 0 } : undefined;
  const folder = row.node.children !== undefined;
  switch (key) {
    case 'ArrowDown':
      return { kind: 'move', index: Math.min(rows.length - 1, active + 1) };
    case 'ArrowUp':
      return { kind: 'move', index: Math.max(0, active - 1) };
    case 'Home':
      return { kind: 'move', index: 0 };
    case 'End':
      return { kind: 'move', index: rows.length - 1 };
    case 'ArrowRight':
      // A closed folder opens; an open one moves to its first child; a file does nothing.
      if (!folder) return undefined;
      if (!row.open) return { kind: 'toggle', path: row.node.path };
      return row.node.children!.length > 0 ? { kind: 'move', index: active + 1 } : undefined;
    case 'ArrowLeft': {
      // An open folder closes; anything else moves to its parent folder.
      if (folder && row.open) return { kind: 'toggle', path: row.node.path };
      for (let i = active - 1; i >= 0; i--) if (rows[i]!.depth < row.depth) return { kind: 'move', index: i };
      return undefined;
    }
    case 'Enter':
    case ' ':
      return folder ? { kind: 'toggle', path: row.node.path } : { kind: 'open-file', path: row.node.path };
    default:
      return undefined;
  }
}
