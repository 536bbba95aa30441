export { checkRelativePath, resolveInsideWorkspace, InvalidPathError, FileMissingError, type ResolvedPath } from './resolve';
export * from './layout';
