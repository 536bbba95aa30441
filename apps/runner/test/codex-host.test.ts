// The codex agent through the runner with the host executor (the worker as a child process).
import { codexRunnerSuite } from './codex-suite';

jest.setTimeout(120_000);
codexRunnerSuite('host');
