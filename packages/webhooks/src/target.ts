import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

// Where a webhook may be sent (server-side request forgery is the risk: a user names a URL, the
// service sends requests to it from inside the deployment's network). The rules:
//   - https only; http when WEBHOOK_ALLOW_HTTP=true. No credentials in the URL.
//   - The name is resolved once, every address it has must be a public unicast one, and the
//     request goes to the first of them (send.ts pins it): a name that resolves to a public
//     address when checked and to 127.0.0.1 when connected to (DNS rebinding) cannot get through.
//   - Loopback, private (RFC 1918, unique local), link-local (the cloud metadata address
//     169.254.169.254 is one), carrier-grade NAT (Alibaba's metadata address), unspecified,
//     multicast, reserved and the IPv6 forms that embed an IPv4 address are refused unless
//     WEBHOOK_ALLOW_PRIVATE_HOSTS=true.
// ipaddr.js classifies the addresses (its ranges follow the IANA special-purpose registries).

export interface TargetRules {
  allowHttp: boolean;
  allowPrivateHosts: boolean;
}

/** dns.lookup's shape with `all: true` (injected in tests to make a name resolve anywhere). */
export type Lookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemLookup: Lookup = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** How long a name may take to resolve. */
const LOOKUP_TIMEOUT_MS = 5000;

/** A URL that may not be called, and why (said to the user as it is). */
export class TargetRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefused';
  }
}

/** The only range a request may go to without WEBHOOK_ALLOW_PRIVATE_HOSTS. */
const PUBLIC = 'unicast';

/** What kind of non-public address `address` is ("a loopback address"), or null when it is public. */
export function nonPublicKind(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process(): an IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it is.
    parsed = ipaddr.process(address);
  } catch {
    return 'not an IP address';
  }
  const range = parsed.range();
  return range === PUBLIC ? null : describeRange(range);
}

/** Why `address` may not be called ("10.0.0.1 is a private address"), or null when it may. */
export function refusedAddress(address: string, rules: Pick<TargetRules, 'allowPrivateHosts'>): string | null {
  if (rules.allowPrivateHosts) return null;
  const kind = nonPublicKind(address);
  return kind ? `${address} is ${kind}` : null;
}

function describeRange(range: string): string {
  switch (range) {
    case 'loopback':
      return 'a loopback address';
    case 'private':
    case 'uniqueLocal':
      return 'a private address';
    case 'linkLocal':
      return 'a link-local address (where cloud metadata services answer)';
    case 'carrierGradeNat':
      return 'a shared (carrier-grade NAT) address';
    case 'unspecified':
      return 'the unspecified address';
    default:
      return `a non-public address (${range})`;
  }
}

/** The URL's host without the brackets of an IPv6 literal. */
const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** The URL, parsed, when its form is allowed (scheme, no credentials); TargetRefused otherwise. */
export function parseTargetUrl(raw: string, rules: Pick<TargetRules, 'allowHttp'>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused('url is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && rules.allowHttp)) {
    throw new TargetRefused(
      rules.allowHttp
        ? 'url must start with https:// or http://'
        : 'url must start with https:// (http is not allowed)',
    );
  }
  if (url.username || url.password) throw new TargetRefused('url must not contain a user name or password');
  if (!bareHost(url)) throw new TargetRefused('url has no host');
  return url;
}

export interface ResolvedTarget {
  url: URL;
  /** The address the request goes to: resolved once, here. */
  address: string;
  family: 4 | 6;
}

async function lookupWithin(lookup: Lookup, hostname: string): Promise<Array<{ address: string; family: number }>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TargetRefused(`${hostname} did not resolve within ${LOOKUP_TIMEOUT_MS / 1000} s`)),
      LOOKUP_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([lookup(hostname), timeout]);
  } catch (err) {
    if (err instanceof TargetRefused) throw err;
    throw new TargetRefused(`${hostname} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks a URL against the rules and resolves its name, once: the address to connect to, or
 * TargetRefused saying why not. Used when an endpoint is registered and before every attempt.
 */
export async function resolveTarget(raw: string, rules: TargetRules, lookup: Lookup): Promise<ResolvedTarget> {
  const url = parseTargetUrl(raw, rules);
  const host = bareHost(url);
  const literal = net.isIP(host);
  const addresses = literal ? [{ address: host, family: literal }] : await lookupWithin(lookup, host);
  if (addresses.length === 0) throw new TargetRefused(`${host} has no address`);
  for (const { address } of rules.allowPrivateHosts ? [] : addresses) {
    const kind = nonPublicKind(address);
    if (kind) {
      const what = literal ? `${address} is ${kind}` : `${host} resolves to ${address}, ${kind}`;
      throw new TargetRefused(`${what}: not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)`);
    }
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
