export { createRunner, type Runner, type RunnerDeps } from './runner';
export { createExecutor, executorName, InfrastructureError, type Executor, type ExecutorRun } from './executors';
export { createDummyExecutor } from './executors/dummy';
export { createDockerExecutor } from './executors/docker';
export { createHostExecutor } from './executors/host';
export { createReconciler, type Reconciler, type ReconcileReport } from './reconciler';
