import { spawn } from 'node:child_process';
import path from 'node:path';

/** The repository root: where prisma.config.ts and prisma/ live. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * Applies the checked-in migrations (`prisma migrate deploy`), as the seed's entrypoint ran
 * Alembic before serving. Nothing else creates tables. Rejects with the CLI's output on failure.
 */
export function applyMigrations(databaseUrl: string): Promise<string> {
  const script = path.join(REPO_ROOT, 'scripts', 'prisma.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, 'migrate', 'deploy'], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`prisma migrate deploy failed (exit ${code}):\n${output}`)),
    );
  });
}
