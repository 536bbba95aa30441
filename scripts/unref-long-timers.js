// Preloaded into the Prisma CLI: its WebAssembly schema engine leaves long timers behind, so the
// process idles 10-60 s after the command has finished. Timers of 10 s or more never hold it open.
const LONG_MS = 10_000;
for (const name of ['setTimeout', 'setInterval']) {
  const original = globalThis[name];
  globalThis[name] = function patched(fn, ms, ...args) {
    const timer = original.call(this, fn, ms, ...args);
    if (typeof ms === 'number' && ms >= LONG_MS && timer && typeof timer.unref === 'function') timer.unref();
    return timer;
  };
}
