import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NotAFileError, decodeText, openWorkspaceFile, readSmallText } from './read';
import { FileMissingError, InvalidPathError } from './resolve';

describe('openWorkspaceFile and readSmallText', () => {
  let tmp: string;
  let ws: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-read-'));
    ws = path.join(tmp, 'ws');
    fs.mkdirSync(path.join(ws, 'dir'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'hello.txt'), 'héllo\n');
    fs.writeFileSync(path.join(ws, 'image.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]));
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'secret');
    fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(ws, 'escape'));
    execFileSync('mkfifo', [path.join(ws, 'pipe')]);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads a UTF-8 file as text', async () => {
    const file = await openWorkspaceFile(ws, 'hello.txt');
    try {
      expect(file.relative).toBe('hello.txt');
      expect(file.size).toBe(7);
      await expect(readSmallText(file, 1024)).resolves.toBe('héllo\n');
    } finally {
      await file.handle.close();
    }
  });

  it('gives null (send it raw) for binary files and files over the cap', async () => {
    const binary = await openWorkspaceFile(ws, 'image.bin');
    const text = await openWorkspaceFile(ws, 'hello.txt');
    try {
      await expect(readSmallText(binary, 1024)).resolves.toBeNull();
      await expect(readSmallText(text, 3)).resolves.toBeNull();
    } finally {
      await binary.handle.close();
      await text.handle.close();
    }
  });

  it('refuses escaping symlinks, and treats directories and FIFOs as not files (without blocking)', async () => {
    await expect(openWorkspaceFile(ws, 'escape')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(openWorkspaceFile(ws, 'dir')).rejects.toBeInstanceOf(NotAFileError);
    await expect(openWorkspaceFile(ws, 'pipe')).rejects.toBeInstanceOf(NotAFileError);
    await expect(openWorkspaceFile(ws, 'nope.txt')).rejects.toBeInstanceOf(FileMissingError);
  });

  it('decodeText accepts UTF-8 and refuses invalid sequences and NUL bytes', () => {
    expect(decodeText(Buffer.from('ok ✓'))).toBe('ok ✓');
    expect(decodeText(Buffer.from([0xc3, 0x28]))).toBeNull();
    expect(decodeText(Buffer.from('a\0b'))).toBeNull();
  });
});
