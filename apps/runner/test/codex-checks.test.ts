// Checks and a fix attempt with the codex agent, through the runner with the host executor.
import { codexChecksSuite } from './codex-checks-suite';

jest.setTimeout(200_000);
codexChecksSuite('host');
