// Points every test file at this run's database, Redis prefix and workspace root.
const state = JSON.parse(process.env.CWO_TEST_STATE || '{}');
process.env.NODE_ENV = 'test';
process.env.DATABASE_URL = state.databaseUrl;
process.env.REDIS_URL = state.redisUrl;
process.env.QUEUE_PREFIX = state.queuePrefix;
process.env.WORKSPACE_ROOT = state.workspaceRoot;
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL || 'error';
