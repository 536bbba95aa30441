import { commitJob } from './history';

// The thread side of history-thread.ts (a task module of @cwo/workspace's thread pool). The error
// travels as its name and message: the pool would pass it on as a plain Error.

export async function commit(
  args: Parameters<typeof commitJob>[0],
): Promise<{ sha: string } | { error: { name: string; message: string } }> {
  try {
    return { sha: await commitJob(args) };
  } catch (err) {
    const e = err as Error;
    return { error: { name: e.name, message: e.message } };
  }
}
