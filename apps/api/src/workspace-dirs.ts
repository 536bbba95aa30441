import fs from 'node:fs/promises';
import type { Config } from '@cwo/config';
import { removeImportFiles } from '@cwo/code-io';
import { removeProjectHistory } from '@cwo/history';
import { projectWorkspace } from '@cwo/workspace';
import type { Logger } from '@cwo/logger';

/**
 * A project's workspace, from WORKSPACE_ROOT as the runner computes it (not the stored
 * workspace_path), so the API and the runners agree on it wherever the volume is mounted.
 */
export const workspaceOf = (config: Pick<Config, 'workspaceRoot'>, projectId: string): string =>
  projectWorkspace(config.workspaceRoot, projectId);

export async function createWorkspaceDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
}

/**
 * Removes a deleted project's workspace and its history (the runner's commits, kept outside the
 * workspace). Failures are logged, not fatal: the rows are gone already.
 */
export async function removeProjectFiles(
  { config, logger }: { config: Pick<Config, 'workspaceRoot'>; logger: Logger },
  projectId: string,
): Promise<void> {
  const workspace = workspaceOf(config, projectId);
  try {
    // Retries: a runner that is being cancelled may still be writing its log into it.
    await fs.rm(workspace, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
  } catch (err) {
    logger.warn('could not remove a deleted project workspace', { workspace, error: err });
  }
  try {
    // An import the runner has not run yet: its upload or token.
    removeImportFiles(config.workspaceRoot, projectId);
    await removeProjectHistory(config.workspaceRoot, projectId);
  } catch (err) {
    logger.warn('could not remove a deleted project history', { project_id: projectId, error: err });
  }
}
