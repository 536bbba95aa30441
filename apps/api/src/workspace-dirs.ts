import fs from 'node:fs/promises';
import type { Config } from '@cwo/config';
import { projectWorkspace, removeProjectHistory } from '@cwo/workspace';
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

/** Removes a deleted project's workspace; failures are logged, not fatal (the rows are gone already). */
export async function removeWorkspaceDir(dir: string, logger: Logger): Promise<void> {
  try {
    // Retries: a runner that is being cancelled may still be writing its log into it.
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
  } catch (err) {
    logger.warn('could not remove a deleted project workspace', { workspace: dir, error: err });
  }
}

/** Removes a deleted project's history (the runner's commits, kept outside the workspace); failures are logged. */
export async function removeHistoryDir(
  config: Pick<Config, 'workspaceRoot'>,
  projectId: string,
  logger: Logger,
): Promise<void> {
  try {
    await removeProjectHistory(config.workspaceRoot, projectId);
  } catch (err) {
    logger.warn('could not remove a deleted project history', { project_id: projectId, error: err });
  }
}
