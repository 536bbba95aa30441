import { commitJob } from './history';

// The thread side of history-thread.ts (a task module of @cwo/workspace's thread pool). The error
// travels as its name and message: the pool would pass it on as a plain Error.

export async function commit({
  args,
  takenAtNs,
}: {
  args: Parameters<typeof commitJob>[0];
  takenAtNs?: bigint;
}): Promise<{ sha: string } | { error: { name: string; message: string } }> {
  if (args.snapshot) args.snapshot.takenAtNs = takenAtNs;
  try {
    return { sha: await commitJob(args) };
  } catch (err) {
    const e = err as Error;
    return { error: { name: e.name, message: e.message } };
  }
}
