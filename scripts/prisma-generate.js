// Generates the Prisma client after install (generated code is never committed).
// Skipped quietly only while the schema does not exist yet (first bootstrap of the repo).
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const root = path.join(__dirname, '..');
if (!existsSync(path.join(root, 'prisma', 'schema.prisma'))) process.exit(0);
execFileSync(process.execPath, [path.join(root, 'scripts', 'prisma.js'), 'generate', '--no-hints'], {
  stdio: 'inherit',
  cwd: root,
});
