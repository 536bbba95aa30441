import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileMissingError, InvalidPathError, checkRelativePath, resolveInsideWorkspace } from './resolve';

// The file access policy (docs/http-api.md, "File access"), at the resolver: 400 (InvalidPathError) for every
// escape, 404 (FileMissingError) for a safe path that does not exist.

describe('resolveInsideWorkspace', () => {
  let tmp: string;
  let ws: string;
  let outside: string;

  beforeAll(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-resolve-')));
    ws = path.join(tmp, 'ws');
    outside = path.join(tmp, 'outside');
    fs.mkdirSync(path.join(ws, '.codex'), { recursive: true });
    fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(ws, 'index.html'), '<p>hi</p>');
    fs.writeFileSync(path.join(ws, 'src', 'app.py'), 'print(1)');
    fs.writeFileSync(path.join(ws, '.codex', 'result.json'), '{}');
    fs.writeFileSync(path.join(ws, '..hidden'), 'dots');
    fs.writeFileSync(path.join(outside, 'secrets.txt'), 'secret');
    fs.symlinkSync(path.join(outside, 'secrets.txt'), path.join(ws, 'file-escape'));
    fs.symlinkSync(outside, path.join(ws, 'dir-escape'));
    fs.symlinkSync(path.join(outside, 'nowhere'), path.join(ws, 'dangling-escape'));
    fs.symlinkSync('src/app.py', path.join(ws, 'inside-link'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const refused = (p: string) => expect(resolveInsideWorkspace(ws, p)).rejects.toBeInstanceOf(InvalidPathError);
  const missing = (p: string) => expect(resolveInsideWorkspace(ws, p)).rejects.toBeInstanceOf(FileMissingError);

  it('resolves plain, nested, hidden and .codex files to their real path', async () => {
    await expect(resolveInsideWorkspace(ws, 'index.html')).resolves.toEqual({
      relative: 'index.html',
      absolute: path.join(ws, 'index.html'),
    });
    await expect(resolveInsideWorkspace(ws, 'src/./app.py')).resolves.toMatchObject({ relative: 'src/app.py' });
    await expect(resolveInsideWorkspace(ws, '.codex/result.json')).resolves.toMatchObject({
      relative: '.codex/result.json',
    });
  });

  it('accepts a name that merely starts with two dots', async () => {
    await expect(resolveInsideWorkspace(ws, '..hidden')).resolves.toMatchObject({ relative: '..hidden' });
  });

  it('follows a symlink that stays inside the workspace', async () => {
    await expect(resolveInsideWorkspace(ws, 'inside-link')).resolves.toMatchObject({
      absolute: path.join(ws, 'src', 'app.py'),
    });
  });

  it.each([
    ['absolute', '/etc/passwd'],
    ['URL-encoded absolute', '%2Fetc%2Fpasswd'],
    ['Windows drive', 'C:\\Windows\\win.ini'],
    ['Windows drive, forward slashes', 'c:/windows'],
    ['UNC', '\\\\server\\share'],
    ['UNC, forward slashes', '//server/share'],
    ['traversal', '../secrets.txt'],
    ['deep traversal', '../../etc/passwd'],
    ['traversal in the middle', 'src/../../outside/secrets.txt'],
    ['backslash traversal', '..\\secrets.txt'],
    ['URL-encoded traversal', '%2e%2e/secrets.txt'],
    ['URL-encoded slash', '..%2fsecrets.txt'],
    ['double-encoded traversal', '%252e%252e/secrets.txt'],
    ['NUL byte', 'index.html\0.png'],
    ['encoded NUL byte', 'index.html%00.png'],
    ['malformed encoding', '%E0%A4%A'],
    ['empty', ''],
  ])('refuses %s paths', async (_label, p) => {
    await refused(p);
  });

  it('refuses symlinks that escape: to a file, through a directory, and dangling', async () => {
    await refused('file-escape');
    await refused('dir-escape/secrets.txt');
    await refused('dir-escape');
    await refused('dangling-escape');
    // Missing beneath an escaping directory link is still an escape, not "not found".
    await refused('dir-escape/does-not-exist.txt');
  });

  it('says "missing" for safe paths that do not exist', async () => {
    await missing('does_not_exist.txt');
    await missing('src/nope/deeper.txt');
    await missing('index.html/child');
  });

  it('says "missing" for names longer than the filesystem allows (no such file can exist)', async () => {
    await missing('x'.repeat(5000));
    await missing(`src/${'y'.repeat(300)}`);
    await missing(`${'d/'.repeat(2100)}f`);
  });

  it('checkRelativePath normalises separators and dot segments', () => {
    expect(checkRelativePath('a//b/./c')).toBe('a/b/c');
    expect(checkRelativePath('a\\b')).toBe('a/b');
  });
});
