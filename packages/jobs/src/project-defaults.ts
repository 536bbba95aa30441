import type { CheckSpec } from '@cwo/contracts';
import type { Db, Project } from '@cwo/db';
import { isUuid } from './ids';

// A project's defaults for its later jobs (docs/checks.md): its checks and fix attempts. A job
// takes them when it is created, so changing them changes no job already made, queued or not.

export interface ProjectDefaults {
  checks?: CheckSpec[];
  fixAttempts?: number;
}

/** Sets the fields given, on the owner's project only; null for a project not found (or another owner's). */
export async function updateProjectDefaults(
  db: Db,
  ownerId: string,
  id: string,
  defaults: ProjectDefaults,
): Promise<Project | null> {
  if (!isUuid(id)) return null;
  const data = {
    ...(defaults.checks !== undefined ? { checks: defaults.checks as object[] } : {}),
    ...(defaults.fixAttempts !== undefined ? { fixAttempts: defaults.fixAttempts } : {}),
  };
  const { count } = await db.project.updateMany({ where: { id, ownerId }, data });
  return count === 0 ? null : db.project.findFirst({ where: { id, ownerId } });
}
