import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router, type RequestHandler } from 'express';
import type { JobsQueue } from '@cwo/queue';
import { unavailable } from '../http/errors';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Bull Board over the jobs queue, for operators. Only mounted when BULL_BOARD_ENABLED=true, and
 * only behind requireAdmin (auth/admin-access.ts): it can retry and delete jobs, and has no
 * authentication of its own.
 *
 * With Redis down the board's API answers 503 in the standard shape, like the rest of the API:
 * its calls are asked first whether Redis answers (`redisUp`, bounded in time), because BullMQ
 * waits for a connection that never came instead of failing (the board's requests hung); and the
 * errors of a connection lost meanwhile go to the API's error handler instead of the board's own,
 * which answers 500 with the error's message.
 */
export function bullBoardRouter(queue: JobsQueue, redisUp: () => Promise<boolean>): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter });
  // Thrown inside the board's error middleware, an error goes on to the API's (express catches it).
  serverAdapter.setErrorHandler((err) => {
    throw err;
  });
  const needsRedis: RequestHandler = (_req, _res, next) => {
    redisUp().then(
      (up) => next(up ? undefined : unavailable('Redis unavailable: the queue board reads the queue from it')),
      next,
    );
  };
  const router = Router();
  router.use('/api', needsRedis);
  router.use(serverAdapter.getRouter() as Router);
  return router;
}
