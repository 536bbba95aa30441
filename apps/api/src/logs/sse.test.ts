import { endEvent, logEvent, sendableLength, utf8Boundary } from './sse';

describe('log events', () => {
  it('sends whole lines while the job runs, everything once it has finished', () => {
    const chunk = Buffer.from('one\ntwo\nthr');
    expect(sendableLength(chunk, { final: false, full: false })).toBe(8);
    expect(sendableLength(chunk, { final: true, full: false })).toBe(11);
    expect(sendableLength(Buffer.from('partial'), { final: false, full: false })).toBe(0);
  });

  it('cuts a full chunk without newlines at a character boundary, never inside one', () => {
    const check = Buffer.from('ab✓'); // ✓ is 3 bytes
    expect(utf8Boundary(check)).toBe(5);
    expect(utf8Boundary(check.subarray(0, 4))).toBe(2);
    expect(utf8Boundary(check.subarray(0, 3))).toBe(2);
    expect(sendableLength(check.subarray(0, 4), { final: false, full: true })).toBe(2);
  });

  it('formats one data line per log line, with the offset after the chunk as id', () => {
    expect(logEvent(12, Buffer.from('a\n\nb\n'))).toBe('id: 12\nevent: log\ndata: a\ndata: \ndata: b\n\n');
    expect(logEvent(3, Buffer.from('tail'))).toBe('id: 3\nevent: log\ndata: tail\n\n');
    expect(logEvent(4, Buffer.from('x\r\n'))).toBe('id: 4\nevent: log\ndata: x\n\n');
    expect(endEvent('completed')).toBe('event: end\ndata: {"status":"completed"}\n\n');
  });
});
