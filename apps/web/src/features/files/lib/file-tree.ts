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
  const walk = (list: readonly TreeNode[], depth: number) => {
    for (const node of list) {
      if (depth === 0 && node.name === '.codex' && !showCodex) continue;
      const isOpen = open.has(node.path);
      rows.push({ node, depth, open: isOpen });
      if (node.children && isOpen) walk(node.children, depth + 1);
    }
  };
  walk(nodes, 0);
  return rows;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
