import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CODEX_DIR } from '@cwo/workspace';

// Where an import waits for the runner, under WORKSPACE_ROOT/.runner/imports/<projectId>/ (no
// worker container mounts .runner/, and it is on the workspaces' filesystem, so the staged tree
// moves into the workspace by rename):
//   upload      the archive as uploaded (the API streams it here, at most MAX_IMPORT_BYTES)
//   credential  a git token: readable by the service's user only, read once by the runner and
//               removed with the rest when the import has run (or the project is deleted);
//               never in Postgres, Redis or a log
//   ssh_key, known_hosts  an ssh deploy key and the known_hosts given with it: kept as the token
//               is (0600), until the import has run
//   tree/       the staging directory the runner unpacks or checks out into

export const importDir = (workspaceRoot: string, projectId: string) =>
  path.join(workspaceRoot, '.runner', 'imports', projectId);
export const uploadFile = (workspaceRoot: string, projectId: string) =>
  path.join(importDir(workspaceRoot, projectId), 'upload');
const credentialFile = (workspaceRoot: string, projectId: string) =>
  path.join(importDir(workspaceRoot, projectId), 'credential');
export const stagingDir = (workspaceRoot: string, projectId: string) =>
  path.join(importDir(workspaceRoot, projectId), 'tree');

export function writeCredential(workspaceRoot: string, projectId: string, token: string): void {
  fs.mkdirSync(importDir(workspaceRoot, projectId), { recursive: true, mode: 0o700 });
  fs.writeFileSync(credentialFile(workspaceRoot, projectId), token, { mode: 0o600, flag: 'wx' });
}

export function readCredential(workspaceRoot: string, projectId: string): string | undefined {
  return readImportFile(credentialFile(workspaceRoot, projectId));
}

function readImportFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The ssh key and known_hosts of a git source, for the runner (0600, as the token). */
export function writeSshCredentials(
  workspaceRoot: string,
  projectId: string,
  ssh: { key?: string; knownHosts?: string },
): void {
  const dir = importDir(workspaceRoot, projectId);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (ssh.key) fs.writeFileSync(path.join(dir, 'ssh_key'), ssh.key, { mode: 0o600, flag: 'wx' });
  if (ssh.knownHosts) fs.writeFileSync(path.join(dir, 'known_hosts'), ssh.knownHosts, { mode: 0o600, flag: 'wx' });
}

export function readSshCredentials(workspaceRoot: string, projectId: string): { key?: string; knownHosts?: string } {
  const dir = importDir(workspaceRoot, projectId);
  return { key: readImportFile(path.join(dir, 'ssh_key')), knownHosts: readImportFile(path.join(dir, 'known_hosts')) };
}

export function removeImportFiles(workspaceRoot: string, projectId: string): void {
  fs.rmSync(importDir(workspaceRoot, projectId), { recursive: true, force: true, maxRetries: 3 });
}

/** A fresh, empty staging directory. */
export function freshStagingDir(workspaceRoot: string, projectId: string): string {
  const dir = stagingDir(workspaceRoot, projectId);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/**
 * The directory whose contents are the project: an archive whose every entry is under one
 * top-level directory (as GitHub's and this API's archives are) is imported from inside it.
 */
export function archiveRoot(staging: string): string {
  const entries = fs.readdirSync(staging, { withFileTypes: true });
  return entries.length === 1 && entries[0]!.isDirectory() ? path.join(staging, entries[0]!.name) : staging;
}

/**
 * Replaces the workspace's contents (all but `.codex/`) with `root`'s, by rename. A run cut short
 * half-way is redone from the start by the next attempt (the import is recorded only after).
 */
export function moveIntoWorkspace(root: string, workspace: string): void {
  fs.mkdirSync(workspace, { recursive: true });
  for (const name of fs.readdirSync(workspace)) {
    if (name !== CODEX_DIR) fs.rmSync(path.join(workspace, name), { recursive: true, force: true });
  }
  for (const name of fs.readdirSync(root)) {
    if (name === CODEX_DIR) continue;
    fs.renameSync(path.join(root, name), path.join(workspace, name));
  }
}

/** The sha256 of a file, hex. */
export async function sha256Of(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
