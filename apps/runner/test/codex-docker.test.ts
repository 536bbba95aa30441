// The codex agent through the runner with the docker executor (the worker image in a container).
// Needs DOCKER_HOST and the worker image: `eval "$(bash scripts/container-runtime.sh --env)"`.
import { codexRunnerSuite } from './codex-suite';

jest.setTimeout(120_000);
codexRunnerSuite('docker');
