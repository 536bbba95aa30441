import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';

// Signing as the Standard Webhooks specification says, with its reference library: the
// signature is HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>` with the secret's bytes,
// sent as `v1,<base64>`. Several space-separated signatures are allowed: while a rotated secret's
// grace period lasts, every delivery is signed with the new secret and the previous one, so a
// receiver verifies with either.

/** The secret's prefix in the specification's format (`whsec_` + base64 of the key). */
const SECRET_PREFIX = 'whsec_';
/** 32 random bytes: the specification asks for 24 to 64. */
const SECRET_BYTES = 32;

/** A new signing secret, `whsec_<base64>`. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${crypto.randomBytes(SECRET_BYTES).toString('base64')}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The three headers of one attempt, signed with each of `secrets` (the current one first). */
export function signedHeaders(secrets: readonly string[], id: string, at: Date, body: string): SignedHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  };
}
