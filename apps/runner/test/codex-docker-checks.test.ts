// Checks and a fix attempt with the codex agent, through the runner with the docker executor.
// Needs DOCKER_HOST and the worker image: `eval "$(bash scripts/container-runtime.sh --env)"`.
import { codexChecksSuite } from './codex-checks-suite';

jest.setTimeout(300_000);
codexChecksSuite('docker');
