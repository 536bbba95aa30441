const fs = require('node:fs');
const { dropTestDatabase, clearRedisPrefix } = require('./services');

module.exports = async function globalTeardown() {
  const state = JSON.parse(process.env.CWO_TEST_STATE);
  await dropTestDatabase(state.name);
  await clearRedisPrefix(state.queuePrefix);
  fs.rmSync(state.workspaceRoot, { recursive: true, force: true });
};
