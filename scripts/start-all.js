// `pnpm start`: the API and the runner from the build, as two processes (as in production).
// Signals are passed on; when either exits, the other is stopped and the exit code is kept.
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const children = ['apps/api/dist/main.js', 'apps/runner/dist/main.js'].map((entry) =>
  spawn(process.execPath, [path.join(root, entry)], { stdio: 'inherit', cwd: root }),
);
let exiting = false;
const stopAll = (signal) => children.forEach((c) => c.exitCode === null && c.kill(signal));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => ((exiting = true), stopAll(signal)));
let remaining = children.length;
let code = 0;
for (const child of children) {
  child.on('exit', (c, s) => {
    if (!exiting) {
      exiting = true;
      code = c ?? (s ? 1 : 0);
      stopAll('SIGTERM');
    }
    if (--remaining === 0) process.exit(code);
  });
}
