import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkerRequest } from '@cwo/contracts';
import { previousThreadId } from './execute-job';

describe('the agent thread handed to the next job', () => {
  let ws: string;
  beforeEach(async () => {
    ws = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-thread-'));
  });
  afterEach(() => fs.rm(ws, { recursive: true, force: true }));

  const ids = ['1b4e28ba-2fa1-41d2-883f-0016d3cca427', '2c5f39cb-3ab2-42e3-994a-1127e4ddb538', '3d6a4adc-4bc3-43f4-a55b-2238f5eec649'];
  const request: WorkerRequest = {
    project_id: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
    job_id: '4e7b5bed-5cd4-44a5-b66c-3349a6ffd75a',
    job_type: 'edit',
    instruction: 'next',
    history: ids.map((job_id) => ({ job_id, job_type: 'edit' as const, instruction: 'x', status: 'completed' as const, summary: null })),
  };
  const writeResult = async (jobId: string, extra: object) => {
    await fs.mkdir(path.join(ws, '.codex/jobs', jobId), { recursive: true });
    await fs.writeFile(path.join(ws, '.codex/jobs', jobId, 'result.json'), JSON.stringify({ status: 'success', ...extra }));
  };

  it('is the latest thread among the earlier jobs’ results, skipping jobs that have none', async () => {
    await writeResult(ids[0]!, { thread_id: 'thread-old' });
    await writeResult(ids[1]!, { thread_id: 'thread-new' });
    await writeResult(ids[2]!, {}); // e.g. a forced error: no thread
    expect(await previousThreadId(ws, request)).toBe('thread-new');
  });

  it('is absent for a first job, or when no earlier result names one (or names an invalid one)', async () => {
    expect(await previousThreadId(ws, { ...request, history: [] })).toBeUndefined();
    await writeResult(ids[2]!, { thread_id: '../../etc' });
    expect(await previousThreadId(ws, request)).toBeUndefined();
  });
});
