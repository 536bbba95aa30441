import { createHash, randomBytes } from 'node:crypto';

// Keys look like `cwo_<8 chars>_<43 chars>`: the prefix tells keys apart in listings and logs
// without revealing them; 32 random bytes make the rest. Only the SHA-256 of the whole key is
// stored: with this much entropy a fast hash is enough (no salt or slow KDF needed).

export const KEY_PREFIX = 'cwo';
const KEY_PATTERN = /^cwo_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/;

export interface NewApiKey {
  /** The key itself: shown once, never stored. */
  key: string;
  /** `cwo_<8 chars>`: safe to show and log. */
  prefix: string;
  hash: string;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomAlphanumeric(n: number): string {
  const bytes = randomBytes(n * 2);
  let out = '';
  // Rejection sampling keeps every character equally likely.
  for (const b of bytes) {
    if (b < 248) out += ALPHANUMERIC[b % 62];
    if (out.length === n) return out;
  }
  return out + randomAlphanumeric(n - out.length);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): NewApiKey {
  const prefix = `${KEY_PREFIX}_${randomAlphanumeric(8)}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** True when the string has the shape of one of our keys (anything else is "malformed"). */
export function looksLikeApiKey(s: string): boolean {
  return KEY_PATTERN.test(s);
}
