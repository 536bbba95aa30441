import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// The API owns these paths; everything else is the app. `pnpm dev` proxies them to the API
// running on PORT (8000 by default), so the dev server talks to the real API, same-origin.
const API_PATHS = ['/api', '/docs', '/openapi.json', '/admin', '/healthz', '/readyz'];
const apiTarget = `http://127.0.0.1:${process.env.PORT ?? '8000'}`;

const contractsDir = fileURLToPath(new URL('../../packages/contracts/src/', import.meta.url));
const browserZod = fileURLToPath(new URL('./src/lib/contracts-zod.ts', import.meta.url));

/** The contracts' `./zod` module, swapped for src/lib/contracts-zod.ts (see there why). */
const contractsZodForBrowser: Plugin = {
  name: 'cwo-contracts-zod-for-browser',
  enforce: 'pre',
  resolveId(source, importer) {
    if (source === './zod' && importer?.startsWith(contractsDir)) return browserZod;
    return null;
  },
};

export default defineConfig({
  plugins: [contractsZodForBrowser, react()],
  resolve: {
    // The zod schemas from their TypeScript sources (the package's build is CommonJS for Node).
    alias: { '@cwo/contracts': fileURLToPath(new URL('../../packages/contracts/src/index.ts', import.meta.url)) },
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(API_PATHS.map((p) => [p, { target: apiTarget, ws: false }])),
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    rolldownOptions: {
      // Libraries in chunks of their own: they change less often than the app, so browsers keep
      // them across deploys (every asset is cached for a year under its hashed name).
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/]\.pnpm[\\/](react|react-dom|scheduler)@/ },
            { name: 'zod', test: /node_modules[\\/]\.pnpm[\\/]zod@/ },
            { name: 'query', test: /node_modules[\\/]\.pnpm[\\/]@tanstack\+(query-core|react-query)@/ },
          ],
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    testTimeout: 30_000,
  },
});
