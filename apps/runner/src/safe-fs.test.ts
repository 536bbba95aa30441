import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ensureRealDir,
  linkOrWrite,
  NotARegularFileError,
  openForAppend,
  readRegularFile,
  writeFileDirect,
} from './safe-fs';

// The agent owns the workspace: whatever it leaves where the runner writes its own files (links,
// hard links, FIFOs, files in place of directories) must be replaced, never written through or
// waited on. The calls are synchronous, so a FIFO that were opened would hang the whole runner:
// these tests would then time out.

describe('the runner’s own files in a workspace the agent controls', () => {
  let root: string;
  let ws: string;
  let outside: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-safefs-'));
    ws = path.join(root, 'ws');
    outside = path.join(root, 'outside.txt');
    fs.mkdirSync(path.join(ws, '.codex', 'jobs', 'j1'), { recursive: true });
    fs.writeFileSync(outside, 'precious');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const mkfifo = (p: string) => execFileSync('mkfifo', [p]);
  const file = (rel: string) => path.join(ws, rel);

  it('writes a copy in place as a new file when the agent left a hard link, a symlink or a FIFO there', async () => {
    fs.linkSync(outside, file('.codex/jobs/j1/result.json'));
    fs.symlinkSync(outside, file('.codex/jobs/j1/request.json'));
    mkfifo(file('.codex/jobs/j1/extra.json'));
    for (const name of ['result.json', 'request.json', 'extra.json'])
      writeFileDirect(ws, `.codex/jobs/j1/${name}`, `{"${name}":1}`);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
    for (const name of ['result.json', 'request.json', 'extra.json']) {
      const st = fs.lstatSync(file(`.codex/jobs/j1/${name}`));
      expect(st.isFile() && st.nlink === 1).toBe(true);
      expect(fs.readFileSync(file(`.codex/jobs/j1/${name}`), 'utf8')).toBe(`{"${name}":1}`);
    }
  });

  it('keeps the job’s copy of result.json as a second name of the file read, which outlives the top-level one', () => {
    fs.writeFileSync(file('.codex/result.json'), '{"status":"success"}');
    const read = readRegularFile(ws, '.codex/result.json', 1000)!;
    linkOrWrite(ws, '.codex/jobs/j1/result.json', '.codex/result.json', read.stat, read.data);
    // No new file: the same inode under the job's name.
    expect(fs.lstatSync(file('.codex/jobs/j1/result.json')).ino).toBe(read.stat.ino);
    // The next job removes the top-level name; the copy keeps the bytes.
    fs.rmSync(file('.codex/result.json'));
    const copy = fs.lstatSync(file('.codex/jobs/j1/result.json'));
    expect(copy.isFile() && copy.nlink === 1).toBe(true);
    expect(fs.readFileSync(file('.codex/jobs/j1/result.json'), 'utf8')).toBe('{"status":"success"}');
    // A retry's copy replaces it.
    fs.writeFileSync(file('.codex/result.json'), '{"status":"error"}');
    const again = readRegularFile(ws, '.codex/result.json', 1000)!;
    linkOrWrite(ws, '.codex/jobs/j1/result.json', '.codex/result.json', again.stat, again.data);
    expect(fs.readFileSync(file('.codex/jobs/j1/result.json'), 'utf8')).toBe('{"status":"error"}');
  });

  it('copies a result.json that has another name (a hard link the agent made), or changed since it was read', () => {
    fs.writeFileSync(file('app.py'), '{"status":"success"}');
    fs.linkSync(file('app.py'), file('.codex/result.json'));
    const read = readRegularFile(ws, '.codex/result.json', 1000)!;
    fs.symlinkSync(outside, file('.codex/jobs/j1/result.json'));
    linkOrWrite(ws, '.codex/jobs/j1/result.json', '.codex/result.json', read.stat, read.data);
    fs.writeFileSync(file('app.py'), 'print(2)\n');
    expect(fs.readFileSync(file('.codex/jobs/j1/result.json'), 'utf8')).toBe('{"status":"success"}');
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');

    fs.rmSync(file('.codex/result.json'));
    fs.writeFileSync(file('.codex/result.json'), '{"a":1}');
    const first = readRegularFile(ws, '.codex/result.json', 1000)!;
    fs.writeFileSync(file('.codex/result.json'), '{"a":22}');
    linkOrWrite(ws, '.codex/jobs/j1/result.json', '.codex/result.json', first.stat, first.data);
    expect(fs.readFileSync(file('.codex/jobs/j1/result.json'), 'utf8')).toBe('{"a":1}');
    expect(fs.lstatSync(file('.codex/jobs/j1/result.json')).nlink).toBe(1);
  });

  it('overwrites its own earlier copy (a retry) instead of appending to it', async () => {
    writeFileDirect(ws, '.codex/jobs/j1/result.json', 'a much longer first version');
    writeFileDirect(ws, '.codex/jobs/j1/result.json', 'second');
    expect(fs.readFileSync(file('.codex/jobs/j1/result.json'), 'utf8')).toBe('second');
  });

  it('appends to a job log only in a file of its own', async () => {
    fs.linkSync(outside, file('.codex/jobs/j1/job.log'));
    let fd = openForAppend(ws, '.codex/jobs/j1/job.log');
    fs.writeSync(fd, 'line\n');
    fs.closeSync(fd);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');

    fs.rmSync(file('.codex/jobs/j1/job.log'));
    mkfifo(file('.codex/jobs/j1/job.log'));
    fd = openForAppend(ws, '.codex/jobs/j1/job.log');
    fs.writeSync(fd, 'line\n');
    fs.closeSync(fd);
    expect(fs.readFileSync(file('.codex/jobs/j1/job.log'), 'utf8')).toBe('line\n');
  });

  it('refuses to read a FIFO, a link or a file under a linked directory, at once', async () => {
    mkfifo(file('.codex/result.json'));
    expect(() => readRegularFile(ws, '.codex/result.json', 1024)).toThrow(NotARegularFileError);
    fs.rmSync(file('.codex/result.json'));
    fs.symlinkSync(outside, file('.codex/result.json'));
    expect(() => readRegularFile(ws, '.codex/result.json', 1024)).toThrow(NotARegularFileError);

    fs.mkdirSync(path.join(root, 'elsewhere'));
    fs.writeFileSync(path.join(root, 'elsewhere', 'result.json'), '{}');
    fs.rmSync(file('.codex/jobs'), { recursive: true });
    fs.symlinkSync(path.join(root, 'elsewhere'), file('.codex/jobs'));
    expect(() => readRegularFile(ws, '.codex/jobs/result.json', 1024)).toThrow(NotARegularFileError);
    expect(readRegularFile(ws, '.codex/missing.json', 1024)).toBeNull();
  });

  it('reads at most the limit plus one byte, and reports the size fstat saw', async () => {
    fs.writeFileSync(file('.codex/result.json'), 'x'.repeat(5000));
    const read = readRegularFile(ws, '.codex/result.json', 100);
    expect(read!.data.length).toBe(101);
    expect(read!.size).toBe(5000);
  });

  it('replaces a linked directory on the way with a real one, and a link at the file with a file', async () => {
    fs.mkdirSync(path.join(root, 'elsewhere'));
    fs.rmSync(file('.codex/jobs'), { recursive: true });
    fs.symlinkSync(path.join(root, 'elsewhere'), file('.codex/jobs'));
    const dir = ensureRealDir(ws, '.codex/jobs/j2');
    expect(fs.lstatSync(file('.codex/jobs')).isDirectory()).toBe(true);
    expect(dir).toBe(file('.codex/jobs/j2'));
    expect(fs.readdirSync(path.join(root, 'elsewhere'))).toEqual([]);

    fs.symlinkSync(outside, file('.codex/request.json'));
    writeFileDirect(ws, '.codex/request.json', '{}');
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
    expect(fs.lstatSync(file('.codex/request.json')).isFile()).toBe(true);
  });

  it('overwrites a file in place (same inode, the old tail cut off) rather than replacing it', () => {
    writeFileDirect(ws, '.codex/request.json', '{"job_id":"a much longer first request"}');
    const before = fs.statSync(file('.codex/request.json')).ino;
    writeFileDirect(ws, '.codex/request.json', '{"job_id":"b"}');
    expect(fs.readFileSync(file('.codex/request.json'), 'utf8')).toBe('{"job_id":"b"}');
    expect(fs.statSync(file('.codex/request.json')).ino).toBe(before);
  });

  it('fails loudly when a write is cut short by a full disk, leaves nothing else behind, and a retry writes it whole', () => {
    const disk = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-safefs-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]);
    try {
      fs.mkdirSync(path.join(disk, '.codex'));
      expect(() => writeFileDirect(disk, '.codex/request.json', Buffer.alloc(2 * 1024 * 1024, 'x'))).toThrow(/ENOSPC/);
      expect(fs.readdirSync(path.join(disk, '.codex'))).toEqual(['request.json']);
      writeFileDirect(disk, '.codex/request.json', '{}');
      expect(fs.readFileSync(path.join(disk, '.codex', 'request.json'), 'utf8')).toBe('{}');
    } finally {
      execFileSync('umount', ['-l', disk]);
      fs.rmSync(disk, { recursive: true, force: true });
    }
  });
});
