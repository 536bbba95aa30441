import { lineWriter, MAX_LINE_CHARS } from './output-lines';

function feed(chunks: Array<string | Buffer>): Promise<string[]> {
  const lines: string[] = [];
  const w = lineWriter((l) => lines.push(l));
  for (const c of chunks) w.write(typeof c === 'string' ? Buffer.from(c) : c);
  return new Promise((resolve) => w.end(() => resolve(lines)));
}

describe('lineWriter', () => {
  it('passes on each line as soon as its newline arrives', () => {
    const lines: string[] = [];
    const w = lineWriter((l) => lines.push(l));
    w.write(Buffer.from('first li'));
    expect(lines).toEqual([]);
    w.write(Buffer.from('ne\nsecond\r\nthi'));
    expect(lines).toEqual(['first line', 'second']);
  });

  it('passes on the unterminated rest at the end, and keeps empty lines', async () => {
    expect(await feed(['a\n\nb'])).toEqual(['a', '', 'b']);
  });

  it('keeps a multi-byte character split across chunks whole', async () => {
    const bytes = Buffer.from('héllo wörld\n');
    expect(await feed([bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)])).toEqual(['héllo wörld']);
  });

  it('cuts an endless line into pieces instead of holding it all', async () => {
    const lines = await feed(['x'.repeat(MAX_LINE_CHARS * 2 + 5)]);
    expect(lines.map((l) => l.length)).toEqual([MAX_LINE_CHARS, MAX_LINE_CHARS, 5]);
  });
});
