import { sqlPool, sqlTransaction, type Db } from '@cwo/db';
import { lockActiveJobs } from './active-jobs';

/**
 * Runs one creation statement on the pg pool (creation is the API's hot path: see sqlPool). With
 * an active-job cap it runs in a transaction behind the owner's advisory lock (see lockActiveJobs);
 * without one, the single statement is atomic by itself.
 */
export async function runCreation<Row>(
  db: Db,
  ownerId: string,
  capped: boolean,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const pool = sqlPool(db);
  if (!capped) return (await pool.query(text, values)).rows as Row[];
  return sqlTransaction(db, async (client) => {
    await lockActiveJobs(client, ownerId);
    return (await client.query(text, values)).rows as Row[];
  });
}
