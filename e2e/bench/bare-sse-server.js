// B6's baseline: a bare Node SSE server tailing one file for every client, with no framework,
// no authentication, no database and no per-client state beyond its socket: a file watch (with a
// poll as fallback), one read of the new whole lines, one SSE formatting, written to every
// client. A client sending Last-Event-ID first gets the bytes it missed, read from the file.
// Started like the API (its own Node process, NODE_ENV=production), serving LOG_FILE.
const fs = require('node:fs');
const http = require('node:http');

const file = process.env.LOG_FILE;
const minIntervalMs = Number(process.env.MIN_INTERVAL_MS || 0);
const clients = new Set();
let published = 0;
let reading = false;
let again = false;
let lastRead = 0;

function event(offsetAfter, text) {
  const lines = text.split('\n');
  lines.pop(); // after the final newline
  return Buffer.from(`id: ${offsetAfter}\nevent: log\n${lines.map((l) => `data: ${l}\n`).join('')}\n`);
}

function wholeLines(buf) {
  return buf.lastIndexOf(0x0a) + 1;
}

function read() {
  if (reading) {
    again = true;
    return;
  }
  const wait = lastRead + minIntervalMs - Date.now();
  if (wait > 0) {
    reading = true;
    setTimeout(() => {
      reading = false;
      read();
    }, wait);
    return;
  }
  reading = true;
  lastRead = Date.now();
  fs.open(file, 'r', (err, fd) => {
    if (err) return done();
    fs.fstat(fd, (err2, st) => {
      const length = err2 ? 0 : Math.min(st.size - published, 1 << 20);
      if (length <= 0) return fs.close(fd, done);
      const buf = Buffer.allocUnsafe(length);
      fs.read(fd, buf, 0, length, published, (err3, n) => {
        fs.close(fd, () => {});
        const send = err3 ? 0 : wholeLines(buf.subarray(0, n));
        if (send > 0) {
          published += send;
          const out = event(published, buf.toString('utf8', 0, send));
          for (const res of clients) res.write(out);
        }
        done();
      });
    });
  });
  function done() {
    reading = false;
    if (again) {
      again = false;
      read();
    }
  }
}

fs.watch(file, () => read());
setInterval(read, 200);

http
  .createServer((req, res) => {
    if (req.url === '/healthz') return res.end('ok');
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    res.write('retry: 1000\n\n');
    const from = Number(req.headers['last-event-id'] ?? 0);
    if (from < published) {
      const buf = Buffer.allocUnsafe(published - from);
      const fd = fs.openSync(file, 'r');
      const n = fs.readSync(fd, buf, 0, buf.length, from);
      fs.closeSync(fd);
      res.write(event(from + n, buf.toString('utf8', 0, n)));
    }
    clients.add(res);
    res.on('close', () => clients.delete(res));
  })
  .listen(Number(process.env.PORT), '127.0.0.1');

// Exit normally on SIGTERM, so that a CPU profile (BENCH_PROFILE_DIR) is written.
process.on('SIGTERM', () => process.exit(0));
