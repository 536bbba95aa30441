// B6's watch probe: a process that only watches the log (fs.watch, as both servers do) and, on
// each wake-up, reads what was appended and takes the age of its newest line (now minus the
// writer's stamp in it): the writer → file → watcher wake-up part of a line's delivery, with no
// HTTP, no client and no least interval between reads. Reports over IPC when asked.
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const now = () => performance.timeOrigin + performance.now();
const file = process.env.LOG_FILE;
const ages = [];
let offset = 0;
let reading = false;
let again = false;

function wake() {
  if (reading) {
    again = true;
    return;
  }
  reading = true;
  const woke = now();
  fs.open(file, 'r', (err, fd) => {
    if (err) return done();
    fs.fstat(fd, (err2, st) => {
      const length = err2 ? 0 : st.size - offset;
      if (length <= 0) return fs.close(fd, done);
      const buf = Buffer.allocUnsafe(length);
      fs.read(fd, buf, 0, length, offset, (err3, n) => {
        fs.close(fd, () => {});
        const end = err3 ? -1 : buf.lastIndexOf(0x0a, n - 1);
        if (end > 0) {
          offset += end + 1;
          const line = buf.toString('latin1', buf.lastIndexOf(0x0a, end - 1) + 1, end);
          const t = Number(line.slice(line.indexOf(' t=') + 3).split(' ')[0]);
          if (Number.isFinite(t)) ages.push(woke - t);
        }
        done();
      });
    });
  });
  function done() {
    reading = false;
    if (again) {
      again = false;
      wake();
    }
  }
}

fs.watch(file, wake);
process.on('message', (msg) => {
  if (msg.type !== 'report') return;
  const sorted = ages.sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  process.send({ type: 'report', wakeups: sorted.length, p50_ms: at(50), p99_ms: at(99), max_ms: sorted.at(-1) });
});
