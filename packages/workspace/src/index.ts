// A project's workspace: its layout, safe paths, listing and reading its files (what the API
// needs), and the pieces @cwo/history builds on (links never followed, time slices, the thread pool,
// walks by find).
export {
  checkRelativePath,
  resolveInsideWorkspace,
  InvalidPathError,
  FileMissingError,
  type ResolvedPath,
} from './resolve';
export * from './layout';
export { isInsideDirectory } from './containment';
export { listWorkspaceFiles, type WorkspaceFile, type ListOptions } from './list';
export { openWorkspaceFile, readSmallText, decodeText, NotAFileError, type OpenedWorkspaceFile } from './read';
export { withRegularFile } from './regular-file';
export { timeSlicer, type TimeSlicer } from './time-slice';
export { runOnThread, stopThreads, taskModule } from './thread-pool';
export { findTimeArg, findTimeNs, scanFind, type FindRecords } from './find';
export { chooseSplit, globEscape, splittable } from './find-split';
export { filesystemNow, hostNowNs } from './fs-clock';
