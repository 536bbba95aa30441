#!/usr/bin/env node
// Runs the Prisma CLI with the long-timer fix preloaded (see scripts/unref-long-timers.js).
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const root = path.join(__dirname, '..');
const cli = require.resolve('prisma/build/index.js', { paths: [path.join(root, 'packages', 'db'), root] });
// The schema keeps `url = env("DATABASE_URL")`; with the variable unset Prisma 6 falls back to
// downloading its native engine, so commands that never connect (generate) get the default URL.
const env = {
  ...process.env,
  DATABASE_URL: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/codex_orchestrator',
};
const r = spawnSync(
  process.execPath,
  ['-r', path.join(__dirname, 'unref-long-timers.js'), cli, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    cwd: root,
    env,
  },
);
process.exit(r.status ?? 1);
