import type { Config } from '@cwo/config';
import type { Logger } from '@cwo/logger';
import { createDockerExecutor } from './docker';
import { createDummyExecutor } from './dummy';
import { createHostExecutor } from './host';
import type { Executor } from './types';

export { InfrastructureError, type Executor, type ExecutorRun } from './types';

type ExecutorFactory = (config: Config, logger: Logger) => Executor;

/**
 * One factory per executor name. `docker` runs the agent in a container (dockerode -> worker-image);
 * `host` runs the same worker entrypoint as a child process, without isolation (development, tests).
 */
const FACTORIES: Record<Executor['name'], ExecutorFactory> = {
  dummy: (config) => createDummyExecutor({ delayMs: config.DUMMY_WORKER_DELAY_MS }),
  docker: (config, logger) => createDockerExecutor({ config, logger }),
  host: (config) => createHostExecutor({ config }),
};

/** `dummy` when USE_DUMMY_WORKER is true (the default), else WORKER_EXECUTOR (`docker` by default, or `host`). */
function executorName(config: Pick<Config, 'USE_DUMMY_WORKER' | 'WORKER_EXECUTOR'>): Executor['name'] {
  return config.USE_DUMMY_WORKER ? 'dummy' : config.WORKER_EXECUTOR;
}

export function createExecutor(config: Config, logger: Logger): Executor {
  return FACTORIES[executorName(config)](config, logger);
}
