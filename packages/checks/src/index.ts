export { runCheck, type CheckContext } from './run-check';
export { runAgentWithChecks, runCheckRound, type ChecksRun } from './with-checks';
export { checkEnvironment, CHECK_SETTINGS } from './check-environment';
export { fixInstruction } from './fix-instruction';
export { OutputTail } from './output-tail';
