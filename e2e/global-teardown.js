const fs = require('node:fs');

module.exports = async function globalTeardown() {
  if (process.env.CWO_E2E_WORKSPACES) fs.rmSync(process.env.CWO_E2E_WORKSPACES, { recursive: true, force: true });
};
