import { CodexEventReader, readableCommand } from './codex-events';

const event = (e: unknown) => JSON.stringify(e);

describe('CodexEventReader', () => {
  test('a retry notice is logged but does not fail the run; the final failure does, once', () => {
    const reader = new CodexEventReader('/workspace');
    const apiError = event({ error: { message: 'Rate limit reached', type: 'rate_limit' } });

    expect(reader.read(event({ type: 'error', message: 'Reconnecting... 1/2 (stream disconnected)' }))).toEqual([
      'codex: Reconnecting... 1/2 (stream disconnected)',
    ]);
    expect(reader.state.errors).toEqual([]);

    expect(reader.read(event({ type: 'error', message: apiError }))).toEqual(['error: Rate limit reached']);
    expect(reader.read(event({ type: 'turn.failed', error: { message: apiError } }))).toEqual([]);
    expect(reader.state).toMatchObject({ turnFailed: true, errors: ['Rate limit reached'] });
  });

  test('says the model is unreachable while Codex reconnects for want of a connection, until the model answers', () => {
    const reader = new CodexEventReader('/workspace');
    reader.read(event({ type: 'turn.started' }));
    expect(reader.read(event({ type: 'error', message: 'Reconnecting... 1/2 (stream disconnected)' }))).toHaveLength(1);
    expect(reader.state.unreachable).toBeUndefined(); // it was reached: the stream broke later

    const waiting = 'Reconnecting... waiting for network (Connection failed: error sending request)';
    expect(reader.read(event({ type: 'error', message: waiting }))).toEqual([`codex: ${waiting}`]);
    expect(reader.state).toMatchObject({ unreachable: 'Connection failed: error sending request', errors: [] });

    reader.read(event({ type: 'item.completed', item: { type: 'agent_message', text: 'hello' } }));
    expect(reader.state.unreachable).toBeUndefined();

    const fatal = new CodexEventReader('/workspace');
    fatal.read(event({ type: 'turn.failed', error: { message: 'stream error: error sending request for url' } }));
    expect(fatal.state.unreachable).toBeUndefined(); // a turn.failed alone names no connection failure
    fatal.read(event({ type: 'error', message: 'error sending request for url (http://10.9.9.9/v1/responses)' }));
    expect(fatal.state.unreachable).toBe('error sending request for url (http://10.9.9.9/v1/responses)');
  });

  test('tells its listener when Codex cannot connect and when the model answered', () => {
    const seen: string[] = [];
    const reader = new CodexEventReader('/workspace', {
      modelReached: () => seen.push('reached'),
      connectionFailed: () => seen.push('failed'),
    });
    reader.read(event({ type: 'turn.started' })); // before the first request: says nothing
    reader.read(
      event({
        type: 'error',
        message: 'Reconnecting... waiting for network (Connection failed: error sending request)',
      }),
    );
    reader.read(event({ type: 'error', message: 'Reconnecting... 1/2 (stream disconnected)' })); // it was connected
    reader.read(event({ type: 'item.completed', item: { type: 'agent_message', text: 'hi' } }));
    expect(seen).toEqual(['failed', 'reached']);
    expect(reader.state.errors).toEqual([]);
  });

  test('file changes are listed relative to the workspace; one outside it is logged, not listed', () => {
    const reader = new CodexEventReader('/workspace');
    const lines = reader.read(
      event({
        type: 'item.completed',
        item: {
          type: 'file_change',
          changes: [
            { path: '/workspace/src/app.py', kind: 'add' },
            { path: '/workspace/README.md', kind: 'update' },
            { path: '/workspace/old.txt', kind: 'delete' },
            { path: '/etc/passwd', kind: 'update' },
          ],
        },
      }),
    );

    expect(lines).toEqual([
      'file add src/app.py',
      'file update README.md',
      'file delete old.txt',
      'file update /etc/passwd',
    ]);
    expect(reader.state).toMatchObject({ created: ['src/app.py'], modified: ['README.md'], deleted: ['old.txt'] });
  });

  test('a long command output is cut to its last lines', () => {
    const reader = new CodexEventReader('/workspace');
    const output = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n');
    const lines = reader.read(
      event({
        type: 'item.completed',
        item: { type: 'command_execution', command: 'seq', aggregated_output: output, exit_code: 0 },
      }),
    );

    expect(lines[0]).toBe('  … 30 earlier lines');
    expect(lines.slice(1, -1)).toHaveLength(20);
    expect(lines.at(-2)).toBe('  line 50');
    expect(lines.at(-1)).toBe('exit 0');
  });

  test('a command of several lines is logged a line at a time', () => {
    const reader = new CodexEventReader('/workspace');
    const command = `/bin/bash -c "cat > app.py <<'EOF'\nprint(1)\nEOF"`;
    expect(reader.read(event({ type: 'item.started', item: { type: 'command_execution', command } }))).toEqual([
      "$ cat > app.py <<'EOF'",
      '> print(1)',
      '> EOF',
    ]);
  });

  test('a line that is not JSON is kept as it is', () => {
    expect(new CodexEventReader('/workspace').read('plain text')).toEqual(['plain text']);
  });
});

describe('readableCommand', () => {
  test.each([
    ["/bin/bash -c 'echo hi > a.txt'", 'echo hi > a.txt'],
    ["/bin/bash -lc 'echo '\\''quoted'\\'''", "echo 'quoted'"],
    ['/bin/bash -c ls', 'ls'],
    ['/bin/bash -c "printf \'%s\' \\"\\$HOME\\""', 'printf \'%s\' "$HOME"'],
    ['python3 -m pytest', 'python3 -m pytest'],
  ])('%s -> %s', (raw, readable) => {
    expect(readableCommand(raw)).toBe(readable);
  });
});
