// Bringing code into a workspace and taking it out (docs/code-io.md).
export {
  ARCHIVE_FORMATS,
  ARCHIVE_MEDIA_TYPES,
  ExportTooLarge,
  planWorkspaceExport,
  streamWorkspaceArchive,
  type ArchiveFormat,
  type ExportLimits,
  type ExportPlan,
} from './export-archive';
export {
  extractArchive,
  sniffArchiveFormat,
  checkEntryName,
  linkEscapes,
  type Extracted,
  type UploadFormat,
} from './extract-archive';
export { fetchGitSource, pinRemote, type GitImportSource, type GitImported } from './git-import';
export { pinnedUrl, runRemoteGit, secretsOf, RemoteGitError, type Pinned } from './git-remote';
export { ImportError, type ImportErrorCode, type ImportLimits } from './import-limits';
export {
  archiveRoot,
  freshStagingDir,
  importDir,
  moveIntoWorkspace,
  readCredential,
  readSshCredentials,
  removeImportFiles,
  sha256Of,
  stagingDir,
  uploadFile,
  writeCredential,
  writeSshCredentials,
} from './import-files';
export {
  nonPublicKind,
  parseRemoteUrl,
  redact,
  RemoteRefused,
  resolveRemote,
  systemLookup,
  type Lookup,
  type RemoteRules,
  type RemoteUrl,
} from './remote-url';
export { pushHistory, PushError, type PushOptions, type Pushed } from './git-push';
export { sshKeyProblem, writeSshFiles, type SshCredentials, type SshFiles } from './ssh-files';
