const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createTestDatabase } = require('./services');

module.exports = async function globalSetup() {
  const db = await createTestDatabase('unit');
  const workspaceRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-test-ws-'));
  const state = { ...db, workspaceRoot };
  // Workers read these through test/env.js; globalTeardown cleans them up.
  process.env.CWO_TEST_STATE = JSON.stringify(state);
};
