import {
  AddressRefused,
  refusedAddress,
  resolveAllowedHost,
  systemLookup,
  type AddressRules,
  type Lookup,
} from '@cwo/address-policy';

// Where a webhook may be sent (server-side request forgery is the risk: a user names a URL, the
// service sends requests to it from inside the deployment's network). The rules:
//   - https only; http when WEBHOOK_ALLOW_HTTP=true. No credentials in the URL.
//   - The host's addresses must be public unless WEBHOOK_ALLOW_PRIVATE_HOSTS=true, and the request
//     goes to the one checked (send.ts pins it): @cwo/address-policy has the rules.

export { refusedAddress, systemLookup, type Lookup };

export interface TargetRules {
  allowHttp: boolean;
  allowPrivateHosts: boolean;
}

/** A URL that may not be called, and why (said to the user as it is). */
export class TargetRefused extends AddressRefused {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefused';
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

/**
 * Checks a URL against the rules and resolves its name, once: the address to connect to, or
 * TargetRefused saying why not. Used when an endpoint is registered and before every attempt.
 */
export async function resolveTarget(raw: string, rules: TargetRules, lookup: Lookup): Promise<ResolvedTarget> {
  const url = parseTargetUrl(raw, rules);
  const policy: AddressRules = { allowPrivateHosts: rules.allowPrivateHosts, setting: 'WEBHOOK_ALLOW_PRIVATE_HOSTS' };
  try {
    return { url, ...(await resolveAllowedHost(bareHost(url), policy, lookup)) };
  } catch (err) {
    throw err instanceof AddressRefused ? new TargetRefused(err.message) : err;
  }
}
