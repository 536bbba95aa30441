export * from './snapshot';
export {
  commitDiffStats,
  commitImport,
  commitJob,
  commitMessage,
  commitSubject,
  gitVersion,
  openCommitDiff,
  projectHistoryDir,
  removeProjectHistory,
  HistoryError,
  COMMIT_SHA,
  HISTORY_BRANCH,
  IMPORT_TRAILER,
  JOB_TRAILER,
  type CommitAuthor,
  type CommitStats,
  type JobToCommit,
} from './history';
export { loadStatIndex, saveStatIndex, statIndexPath } from './stat-index';
export { restoreWorkspace, EMPTY_TREE, type RestoreResult } from './workspace-restore';
export { commitJobOffThread, useHistoryThreads } from './history-thread';
export { openHistoryBundle, openTreeArchive } from './history-export';
export { planRevert, writeRevertCommit, type RevertPlan } from './history-revert';
