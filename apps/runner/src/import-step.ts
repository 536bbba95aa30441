import {
  archiveRoot,
  extractArchive,
  fetchGitSource,
  freshStagingDir,
  ImportError,
  moveIntoWorkspace,
  readCredential,
  readSshCredentials,
  RemoteGitError,
  removeImportFiles,
  systemLookup,
  uploadFile,
  type ImportErrorCode,
  type Lookup,
} from '@cwo/code-io';
import type { Config } from '@cwo/config';
import { ProjectSource } from '@cwo/contracts';
import type { Db } from '@cwo/db';
import { commitImport } from '@cwo/history';
import { projectImport, recordImportCommit, type RunnableJob } from '@cwo/jobs';
import { describeError } from './describe-error';
import type { JobLog } from './job-log';

// A project's first step when it was created from existing code (docs/code-io.md): the source (a
// git repository, or the archive the API kept under .runner/imports/) is brought into a staging
// directory under its own time limit (IMPORT_TIMEOUT_SECONDS), checked there, moved into the
// workspace, and committed as the history's first commit ("import"), recorded on the project so
// that every later attempt and job starts from it. The agent then runs on that code, and the first
// job's diff shows only what it changed. Everything that fails is refused in the staging
// directory: nothing half-imported reaches the workspace. The import files (the upload, a token)
// are removed once the import has run, whatever its outcome.

export type ImportStepResult =
  { kind: 'none' } | { kind: 'imported'; commit: string } | { kind: 'failed'; code: ImportErrorCode; message: string };

export interface ImportStepArgs {
  config: Pick<
    Config,
    | 'workspaceRoot'
    | 'GIT_AUTHOR_NAME'
    | 'GIT_AUTHOR_EMAIL'
    | 'MAX_IMPORT_BYTES'
    | 'IMPORT_MAX_FILES'
    | 'IMPORT_MAX_UNPACKED_BYTES'
    | 'IMPORT_MAX_RATIO'
    | 'IMPORT_TIMEOUT_SECONDS'
    | 'IMPORT_ALLOW_PRIVATE_HOSTS'
    | 'IMPORT_ALLOW_HTTP'
  >;
  db: Db;
  job: RunnableJob;
  workspace: string;
  log: JobLog;
  /** The attempt's signal (cancel, shutdown, a lost lock). */
  signal: AbortSignal;
  /** Throws unless the project's lock is still this attempt's (checked before the workspace is touched). */
  ensureLockFresh: (before: string) => void;
  lookup?: Lookup;
}

export async function runImportStep(a: ImportStepArgs): Promise<ImportStepResult> {
  if (a.job.jobType !== 'initial_project') return { kind: 'none' };
  const project = await projectImport(a.db, a.job.projectId);
  if (!project || project.source === null || project.importCommit) return { kind: 'none' };
  const source = ProjectSource.parse(project.source);
  const { config, log } = a;
  const root = config.workspaceRoot;
  const limitSeconds = config.IMPORT_TIMEOUT_SECONDS;
  const deadline = Date.now() + limitSeconds * 1000;
  const timeout = AbortSignal.timeout(limitSeconds * 1000);
  const signal = AbortSignal.any([a.signal, timeout]);
  const limits = {
    maxBytes: config.MAX_IMPORT_BYTES,
    maxFiles: config.IMPORT_MAX_FILES,
    maxUnpackedBytes: config.IMPORT_MAX_UNPACKED_BYTES,
    maxRatio: config.IMPORT_MAX_RATIO,
  };
  const started = performance.now();
  log.step(`import: bringing the project's source in (time limit ${limitSeconds} s)`);
  try {
    const staging = freshStagingDir(root, a.job.projectId);
    let description: string;
    let tree = staging;
    if (source.kind === 'git') {
      const fetched = await fetchGitSource({
        source: {
          url: source.url,
          ref: source.ref ?? undefined,
          token: readCredential(root, a.job.projectId),
          submodules: source.submodules ?? false,
          ssh: readSshCredentials(root, a.job.projectId),
        },
        dir: staging,
        rules: { allowPrivateHosts: config.IMPORT_ALLOW_PRIVATE_HOSTS, allowHttp: config.IMPORT_ALLOW_HTTP },
        lookup: a.lookup ?? systemLookup,
        limits,
        deadline,
        signal,
        log: (line) => log.step(line),
      });
      description = fetched.description;
    } else {
      log.step(`import: unpacking the uploaded ${source.format} archive (${source.bytes} bytes)`);
      const extracted = await extractArchive(uploadFile(root, a.job.projectId), staging, limits, signal);
      if (extracted.skipped.length)
        log.step(`import: left out of the archive: ${extracted.skipped.join(', ')} (not project files)`);
      tree = archiveRoot(staging);
      description = `${source.format} archive, ${extracted.entries} entries, ${extracted.bytes} bytes (sha256 ${source.sha256.slice(0, 12)})`;
    }
    a.ensureLockFresh('the imported source was moved into the workspace');
    moveIntoWorkspace(tree, a.workspace);
    const commit = await commitImport({
      workspaceRoot: root,
      projectId: a.job.projectId,
      workspace: a.workspace,
      jobId: a.job.id,
      description,
      author: { name: config.GIT_AUTHOR_NAME, email: config.GIT_AUTHOR_EMAIL },
    });
    await recordImportCommit(a.db, a.job.projectId, commit);
    removeImportFiles(root, a.job.projectId);
    log.step(
      `import: ${description} is in the workspace, committed as ${commit.slice(0, 12)} ` +
        `(${Math.round(performance.now() - started)} ms)`,
    );
    return { kind: 'imported', commit };
  } catch (err) {
    const timedOut = timeout.aborted && !a.signal.aborted;
    if (!timedOut && (a.signal.aborted || !(err instanceof ImportError || err instanceof RemoteGitError))) {
      // Cancelled, stopping, or the infrastructure failed: the processor decides (a retry redoes it).
      if (!a.signal.aborted) log.step(`import: failed: ${describeError(err)}`);
      throw err;
    }
    const code: ImportErrorCode = err instanceof ImportError && !timedOut ? err.code : 'import_failed';
    const message = timedOut
      ? `the import did not finish within ${limitSeconds} s (IMPORT_TIMEOUT_SECONDS)`
      : (err as Error).message;
    log.step(`import: refused or failed (${code}): ${message}; the workspace is unchanged`);
    removeImportFiles(root, a.job.projectId);
    return { kind: 'failed', code, message: `import: ${message}` };
  }
}
