import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

// Which addresses the service may connect to when a user names a host (a webhook URL, a git
// remote, a submodule): the rules against server-side request forgery, in one place.
//   - The name is resolved once, every address it has must be a public unicast one, and the
//     caller connects to the first of them (pinned), so a name that resolves to a public address
//     when checked and to 127.0.0.1 when connected to (DNS rebinding) cannot get through.
//   - Loopback, private (RFC 1918, unique local), link-local (the cloud metadata address
//     169.254.169.254 is one), carrier-grade NAT (Alibaba's metadata address), unspecified,
//     multicast, reserved and the IPv6 forms that embed an IPv4 address are refused unless the
//     caller's setting (WEBHOOK_ALLOW_PRIVATE_HOSTS, IMPORT_ALLOW_PRIVATE_HOSTS) allows them.
// ipaddr.js classifies the addresses (its ranges follow the IANA special-purpose registries).

/** dns.lookup's shape with `all: true` (tests inject one to make a name resolve anywhere). */
export type Lookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemLookup: Lookup = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** How long a name may take to resolve. */
const LOOKUP_TIMEOUT_MS = 5000;

/** A host that may not be connected to, and why (said to the user as it is). */
export class AddressRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefused';
  }
}

export interface AddressRules {
  allowPrivateHosts: boolean;
  /** The setting that allows non-public addresses, named in a refusal. */
  setting: string;
}

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
  // ::/96 (but :: and ::1) is RFC 4291's deprecated IPv4-compatible form, an IPv4 address in its
  // last 32 bits, which ipaddr.js calls unicast (::7f00:1, though ::127.0.0.1 it calls loopback):
  // never a public host.
  if (
    range === 'unicast' &&
    parsed.kind() === 'ipv6' &&
    (parsed as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)
  )
    return 'an IPv4-compatible address (deprecated, ::/96)';
  return range === 'unicast' ? null : describeRange(range);
}

/** Why `address` may not be connected to ("10.0.0.1 is a private address"), or null when it may. */
export function refusedAddress(address: string, rules: Pick<AddressRules, 'allowPrivateHosts'>): string | null {
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

async function lookupWithin(lookup: Lookup, hostname: string): Promise<Array<{ address: string; family: number }>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AddressRefused(`${hostname} did not resolve within ${LOOKUP_TIMEOUT_MS / 1000} s`)),
      LOOKUP_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([lookup(hostname), timeout]);
  } catch (err) {
    if (err instanceof AddressRefused) throw err;
    throw new AddressRefused(
      `${hostname} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`,
    );
  } finally {
    clearTimeout(timer);
  }
}

export interface ResolvedAddress {
  /** The address to connect to: resolved once, here. */
  address: string;
  family: 4 | 6;
}

/**
 * Resolves `host` (a name, or an IP literal without brackets) once and checks every address it
 * has against the rules: the address to connect to, or AddressRefused saying why not.
 */
export async function resolveAllowedHost(host: string, rules: AddressRules, lookup: Lookup): Promise<ResolvedAddress> {
  const literal = net.isIP(host);
  const addresses = literal ? [{ address: host, family: literal }] : await lookupWithin(lookup, host);
  if (addresses.length === 0) throw new AddressRefused(`${host} has no address`);
  for (const { address } of rules.allowPrivateHosts ? [] : addresses) {
    const kind = nonPublicKind(address);
    if (kind) {
      const what = literal ? `${address} is ${kind}` : `${host} resolves to ${address}, ${kind}`;
      throw new AddressRefused(`${what}: not allowed (${rules.setting})`);
    }
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
