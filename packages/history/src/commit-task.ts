import { commitJob, commitPlanned, type PlannedCommit } from './history';

// The thread side of history-thread.ts (a task module of @cwo/workspace's thread pool). The error
// travels as its name and message: the pool would pass it on as a plain Error.

type Answer<T> = T | { error: { name: string; message: string } };

const failure = (err: unknown) => ({ error: { name: (err as Error).name, message: (err as Error).message } });

export async function commit({
  args,
  takenAtNs,
}: {
  args: Parameters<typeof commitJob>[0];
  takenAtNs?: bigint;
}): Promise<Answer<{ sha: string }>> {
  if (args.snapshot) args.snapshot.takenAtNs = takenAtNs;
  try {
    return { sha: await commitJob(args) };
  } catch (err) {
    return failure(err);
  }
}

export async function planned(p: PlannedCommit): Promise<Answer<{ sha: string; indexSaved: boolean } | 'stale'>> {
  try {
    return await commitPlanned(p);
  } catch (err) {
    return failure(err);
  }
}
