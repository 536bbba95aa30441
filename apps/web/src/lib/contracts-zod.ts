import { z, ZodType } from 'zod';

// packages/contracts/src/zod.ts for the browser build (vite.config.ts swaps it in): the same zod
// instance semantics, with `.openapi()` — which only feeds the OpenAPI document — as a no-op.
// The original passes the whole `z` namespace to zod-to-openapi, which keeps every zod locale and
// helper in the bundle (~90 KB gzipped) for metadata the browser never reads.
(ZodType.prototype as unknown as { openapi: () => unknown }).openapi = function openapi(this: unknown) {
  return this;
};

export { z };
