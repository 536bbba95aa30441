import { Status, z } from '@cwo/contracts';

/** The `end` event's data: the job's final status (apps/api/src/logs/sse.ts endEvent). */
export const StatusSchemaForLog = z.object({ status: Status });
