import { randomBytes } from 'node:crypto';
import type { Config } from '@cwo/config';
import type { Logger } from '@cwo/logger';
import { projectOfLabel, signedLabel } from './preview-label';
import { previewOrigins } from './preview-origin';

// What both sides of a preview share: the origins, the signing key and the link's lifetime. The
// API's routes mint links (GET /projects/{id}/preview); the preview host checks them.

export interface PreviewAccess {
  /** Links are signed and expire (AUTH_MODE=api_key); with AUTH_MODE=none the origin is the project's. */
  signed: boolean;
  linkSeconds: number;
  /** The URL a person opens, and when it stops working (null: never). */
  linkFor(projectId: string, nowMs?: number): { url: string; expiresAt: Date | null };
  /** The project whose preview a Host header names, or null (not a preview host, forged, expired). */
  projectOfHost(host: string | undefined): { projectId: string } | 'not_preview' | null;
}

export function createPreviewAccess(config: Config, logger: Logger): PreviewAccess {
  const signed = config.AUTH_MODE === 'api_key';
  let secret = config.PREVIEW_SECRET;
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    if (signed) {
      logger.warn(
        'PREVIEW_SECRET is not set: preview links are signed with a random key of this process, so they ' +
          'stop working when it restarts and on other API processes. Set PREVIEW_SECRET (32+ characters).',
      );
    }
  }
  const origins = previewOrigins(config.previewBaseUrl);
  const linkSeconds = config.PREVIEW_LINK_SECONDS;
  return {
    signed,
    linkSeconds,
    linkFor(projectId, nowMs = Date.now()) {
      if (!signed) return { url: `${origins.originOf(projectId)}/`, expiresAt: null };
      const expires = Math.floor(nowMs / 1000) + linkSeconds;
      return {
        url: `${origins.originOf(signedLabel(secret, projectId, expires))}/`,
        expiresAt: new Date(expires * 1000),
      };
    },
    projectOfHost(host) {
      const label = origins.labelOfHost(host);
      if (label === null) return 'not_preview';
      return projectOfLabel(label, { signed, secret });
    },
  };
}
