// The one place that knows how this project starts Chromium: Debian's package (installed by
// scripts/install-chromium.sh), and the flags that keep it quiet on a closed network (without
// them it opens many refused connections at start). CommonJS, so that the API's jest tests, the
// e2e tests and the benchmarks (plain Node) all share it. A missing browser fails loudly.
const fs = require('node:fs');

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const CHROMIUM_ARGS = Object.freeze([
  // As root Chromium refuses to start sandboxed; the pages it opens are the tests' own.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

/** playwright-core's launch options for it (headless; a profile is the caller's choice). */
function chromiumLaunchOptions() {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}: run \`bash scripts/install-chromium.sh\` ` +
        '(`pnpm test:e2e` does) or `apt-get install -y chromium`.',
    );
  }
  return { executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] };
}

module.exports = { CHROMIUM_PATH, CHROMIUM_ARGS, chromiumLaunchOptions };
