const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { requireServices, ROOT } = require('../test/services');

const BUILT = ['apps/api/dist/main.js', 'apps/runner/dist/main.js', 'apps/web/dist/index.html'];

// Fails the run at once when something the tests need is missing, saying how to get it. Each
// test file then makes its own database (test/services.js createTestDatabase), Redis prefix and
// workspace root, so that no file sees another's jobs.
module.exports = async function globalSetup() {
  const missing = BUILT.filter((entry) => !fs.existsSync(path.join(ROOT, entry)));
  if (missing.length) {
    throw new Error(
      `The e2e tests run the built processes; ${missing.join(' and ')} missing. ` +
        'Run `pnpm build` first (`pnpm test:e2e` builds, then tests).',
    );
  }
  await requireServices();
  process.env.CWO_E2E_WORKSPACES = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-e2e-'));
};
