import { createHmac, timingSafeEqual } from 'node:crypto';

// The host label of a preview: what stands for {projectId} in PREVIEW_BASE_URL.
//
// With AUTH_MODE=none it is the project id. With AUTH_MODE=api_key it is a signed, expiring
// capability: the project id (without dashes), when it expires and an HMAC of both, so that the
// preview's origin itself is the proof. A cookie cannot be: a preview is a sandboxed document (an
// opaque origin), and Chromium sends no cookies at all with the requests such a document makes for
// its scripts, styles and fetches (measured; see docs/previews.md).

const HEX_ID = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// 32 hex digits, "-", 6 base-36 digits of expiry (seconds; enough until 2059), 20 base-32 of HMAC
// (100 bits): 59 characters, under DNS's 63 per label.
const SIGNED = /^([0-9a-f]{32})-([0-9a-z]{6})([a-z2-7]{20})$/;
const EXPIRY_DIGITS = 6;
const SIG_CHARS = 20;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer, chars: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === chars) break;
  }
  return out;
}

const toHex = (uuid: string) => uuid.replaceAll('-', '');
const toUuid = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

function signature(secret: string, hexId: string, expiry: string): string {
  return base32(createHmac('sha256', secret).update(`preview\n${hexId}\n${expiry}`).digest(), SIG_CHARS);
}

/** The label of a link to this project's preview that stays good until `expires` (Unix seconds). */
export function signedLabel(secret: string, projectId: string, expires: number): string {
  const hexId = toHex(projectId.toLowerCase());
  const expiry = expires.toString(36).padStart(EXPIRY_DIGITS, '0');
  return `${hexId}-${expiry}${signature(secret, hexId, expiry)}`;
}

export type LabelCheck = { projectId: string } | null;

/**
 * The project a label names, or null: not a label, forged, expired, or (AUTH_MODE=none) not a
 * project id. Host names are case-insensitive, so the label is compared lower-cased.
 */
export function projectOfLabel(
  label: string,
  opts: { signed: boolean; secret: string; nowSeconds?: number },
): LabelCheck {
  const l = label.toLowerCase();
  if (!opts.signed) return UUID.test(l) ? { projectId: l } : null;
  const match = SIGNED.exec(l);
  if (!match || !HEX_ID.test(match[1]!)) return null;
  const [, hexId, expiry, sig] = match as unknown as [string, string, string, string];
  const expected = Buffer.from(signature(opts.secret, hexId, expiry));
  if (!timingSafeEqual(Buffer.from(sig), expected)) return null;
  if (parseInt(expiry, 36) <= (opts.nowSeconds ?? Math.floor(Date.now() / 1000))) return null;
  return { projectId: toUuid(hexId) };
}
