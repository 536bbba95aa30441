export { checkRelativePath, resolveInsideWorkspace, InvalidPathError, FileMissingError, type ResolvedPath } from './resolve';
export * from './layout';
export * from './snapshot';
export { isInsideDirectory } from './containment';
export { listWorkspaceFiles, type WorkspaceFile, type ListOptions } from './list';
export { openWorkspaceFile, readSmallText, decodeText, NotAFileError, type OpenedWorkspaceFile } from './read';
