import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jobLogFile } from '@cwo/workspace';
import { openLogReader } from './log-file';

describe('a job log opened for repeated reads', () => {
  let workspace: string;
  beforeEach(() => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'log-file-'));
    fs.mkdirSync(path.dirname(jobLogFile(workspace, 'job')), { recursive: true });
    fs.writeFileSync(jobLogFile(workspace, 'job'), 'first\nsecond\n');
  });
  afterEach(() => fs.rmSync(workspace, { recursive: true, force: true }));

  it('hands each read its own bytes, sized to what was read, not a chunk-sized buffer per read', async () => {
    const reader = (await openLogReader(workspace, 'job'))!;
    try {
      const first = await reader.read(0, 64 * 1024);
      const second = await reader.read(6, 64 * 1024);
      expect(first.toString()).toBe('first\nsecond\n');
      expect(second.toString()).toBe('second\n');
      // Neither holds on to (or shares) a 64 KiB buffer behind the few bytes it carries.
      expect(first.buffer.byteLength).toBeLessThan(64 * 1024);
      expect(second.buffer.byteLength).toBeLessThan(64 * 1024);
      expect(await reader.read(13, 64 * 1024)).toHaveLength(0);
      expect(first.toString()).toBe('first\nsecond\n'); // later reads leave earlier bytes alone
    } finally {
      await reader.close();
    }
  });
});
