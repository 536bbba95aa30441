import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diskIsFull, isDiskFullError } from './disk-full';

describe('telling a full disk', () => {
  it('knows ENOSPC and EDQUOT, wrapped or only named in a message', () => {
    expect(isDiskFullError(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))).toBe(true);
    expect(isDiskFullError(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBe(true);
    expect(isDiskFullError(new Error('could not run', { cause: { code: 'ENOSPC' } }))).toBe(true);
    expect(isDiskFullError(new Error('ENOSPC: no space left on device, write'))).toBe(true);
    expect(isDiskFullError(Object.assign(new Error('gone'), { code: 'ENOENT' }))).toBe(false);
    expect(isDiskFullError('ENOSPC')).toBe(false);
  });

  it('sees a filesystem with no space left (a small tmpfs, filled)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-disk-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
    try {
      expect(diskIsFull(dir)).toBe(false);
      expect(() => fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(8 * 1024 * 1024))).toThrow(/ENOSPC/);
      expect(diskIsFull(dir)).toBe(true);
      fs.rmSync(path.join(dir, 'filler'));
      expect(diskIsFull(dir)).toBe(false);
    } finally {
      execFileSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
