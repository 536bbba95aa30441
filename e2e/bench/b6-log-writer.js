// B6's writer: appends LINES_PER_S lines a second to LOG_FILE for SECONDS, as the runner does
// (one synchronous write per turn with every line due by then), each line stamped with the time
// it is written (t=<ms since the epoch, µs precision>) so that clients can tell how late it
// reached them. Runs as its own process so that the clients' work does not delay its writes.
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const file = process.env.LOG_FILE;
const linesPerS = Number(process.env.LINES_PER_S || 2000);
const seconds = Number(process.env.SECONDS || 20);
const total = linesPerS * seconds;
const pad = 'x'.repeat(40);
const now = () => performance.timeOrigin + performance.now();

const fd = fs.openSync(file, 'a');
const start = now();
let written = 0;
function tick() {
  const t = now();
  const due = Math.min(total, Math.floor(((t - start) / 1000) * linesPerS));
  if (due > written) {
    const iso = new Date(t).toISOString();
    let text = '';
    for (; written < due; written++) text += `${iso} [agent] line ${written} t=${t.toFixed(3)} ${pad}\n`;
    fs.writeSync(fd, text);
  }
  if (written < total) setTimeout(tick, 1);
  else fs.closeSync(fd);
}
tick();
