export {
  checkRelativePath,
  resolveInsideWorkspace,
  InvalidPathError,
  FileMissingError,
  type ResolvedPath,
} from './resolve';
export * from './layout';
export * from './snapshot';
export { isInsideDirectory } from './containment';
export { listWorkspaceFiles, type WorkspaceFile, type ListOptions } from './list';
export { openWorkspaceFile, readSmallText, decodeText, NotAFileError, type OpenedWorkspaceFile } from './read';
export {
  commitJob,
  commitSubject,
  gitVersion,
  openCommitDiff,
  projectHistoryDir,
  removeProjectHistory,
  HistoryError,
  COMMIT_SHA,
  HISTORY_BRANCH,
  JOB_TRAILER,
  type CommitAuthor,
  type JobToCommit,
} from './history';
export { commitJobOffThread, stopHistoryThreads, useHistoryThreads } from './history-thread';
export { withRegularFile } from './regular-file';
