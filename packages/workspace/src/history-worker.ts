import { parentPort } from 'node:worker_threads';
import { commitJob } from './history';

// The thread side of history-thread.ts: commits one job per message.

parentPort!.on('message', (msg: { id: number; args: Parameters<typeof commitJob>[0] }) => {
  commitJob(msg.args).then(
    (sha) => parentPort!.postMessage({ id: msg.id, sha }),
    (err: Error) => parentPort!.postMessage({ id: msg.id, error: { name: err.name, message: err.message } }),
  );
});
