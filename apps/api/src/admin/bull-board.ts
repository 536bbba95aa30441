import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Router } from 'express';
import type { JobsQueue } from '@cwo/queue';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Bull Board over the jobs queue, for operators. Only mounted when BULL_BOARD_ENABLED=true, and
 * only behind requireAdmin (auth/admin-access.ts): it can retry and delete jobs, and has no
 * authentication of its own.
 */
export function bullBoardRouter(queue: JobsQueue): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter });
  return serverAdapter.getRouter() as Router;
}
