import fs from 'node:fs';
import path from 'node:path';
import compression from 'compression';
import express, { type Express, type Response } from 'express';
import type { Logger } from '@cwo/logger';

// The built web app (apps/web/dist) at `/`: hashed assets cached for a year, index.html never
// cached, and every other GET for a page (a client-side route such as /projects/<id>) answered
// with index.html. The API's own paths are never answered here: an unknown /api/v1/… stays a
// JSON 404.

/** apps/web/dist, from apps/api/src/http (tests) and apps/api/dist/http (the build) alike. */
export const DEFAULT_WEB_APP_DIR = path.resolve(__dirname, '../../../web/dist');

/** Vite puts every hashed file here; the names change whenever the contents do. */
const ASSETS_PREFIX = '/assets/';

/**
 * The app's Content-Security-Policy: its own scripts only (no inline script, no eval), no
 * plugins, no framing of it. What the agent wrote is shown as text, but should anything ever be
 * rendered as HTML, nothing in it could run. The one frame it may show is a preview (the Preview
 * tab), whose origin is another site and whose own policy sandboxes it: `webAppCsp` adds it.
 */
export const WEB_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** WEB_APP_CSP with `frame-src` for the preview origins (previewFrameSource), if any. */
export function webAppCsp(previewFrames?: string): string {
  return previewFrames ? `${WEB_APP_CSP}; frame-src ${previewFrames}` : WEB_APP_CSP;
}

function securityHeaders(res: Response, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
}

export interface WebAppOptions {
  dir: string;
  /** Path prefixes that belong to the API (API_V1_STR, /docs, /admin, …): never the app's. */
  reservedPrefixes: string[];
  logger: Logger;
  /** The CSP source of the preview origins the app may frame (previewFrameSource). */
  previewFrames?: string;
}

const isReserved = (urlPath: string, prefixes: string[]) =>
  prefixes.some((p) => urlPath === p || urlPath.startsWith(p.endsWith('/') ? p : `${p}/`));

export function mountWebApp(app: Express, { dir, reservedPrefixes, logger, previewFrames }: WebAppOptions): void {
  const csp = webAppCsp(previewFrames);
  const indexFile = path.join(dir, 'index.html');
  if (!fs.existsSync(indexFile)) {
    logger.warn(`the web app is not built (${indexFile} is missing): / answers 404 until \`pnpm build\` has run`);
    return;
  }
  // Read once: the build does not change under a running process (a deploy restarts it).
  const indexHtml = fs.readFileSync(indexFile);

  const files = express.static(dir, {
    index: false,
    redirect: false,
    fallthrough: true,
    setHeaders: (res, filePath) => {
      securityHeaders(res, csp);
      const rel = `/${path.relative(dir, filePath).split(path.sep).join('/')}`;
      res.setHeader(
        'Cache-Control',
        rel.startsWith(ASSETS_PREFIX) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  // Gzipped when the browser accepts it (the projects page's JavaScript and CSS are ~3× smaller,
  // pnpm bench B7); only the app's files, never the API's answers or its event streams.
  const gzip = compression();
  app.use((req, res, next) => {
    if (isReserved(req.path, reservedPrefixes)) return next();
    gzip(req, res, () => {
      files(req, res, next);
    });
  });

  app.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (isReserved(req.path, reservedPrefixes) || req.path.startsWith(ASSETS_PREFIX)) return next();
    // A missing script or image must stay a 404, not become a page the browser would cache as one.
    if (!req.accepts('html')) return next();
    securityHeaders(res, csp);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(indexHtml);
  });
}
