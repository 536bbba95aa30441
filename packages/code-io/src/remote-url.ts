import { AddressRefused, nonPublicKind, resolveAllowedHost, systemLookup, type Lookup } from '@cwo/address-policy';

// Which git remotes a user may name (imports and pushes): a user names a URL, and the runner or the
// API connects to it from inside the deployment's network, so the rules are those of a request
// forgery risk:
//   - https, ssh (ssh://… or the scp form user@host:path) and git:// only (http:// only with
//     IMPORT_ALLOW_HTTP=true, for tests and private networks). No file://, ext::, or options in
//     disguise (a host or user starting with "-").
//   - The name is resolved once; every address must be public unless IMPORT_ALLOW_PRIVATE_HOSTS
//     (@cwo/address-policy has the rules), and git is made to connect to the address checked (pinned: curl's resolve list for http(s),
//     the address itself for git:// and ssh), so a name that changes its answer between the check
//     and the connection (DNS rebinding) cannot get through.
//   - A credential (in the URL, or the token) is split off the URL at once: the URL shown, stored
//     and logged never has one.

export interface RemoteRules {
  allowPrivateHosts: boolean;
  allowHttp: boolean;
}

export { nonPublicKind, systemLookup, type Lookup };

/** A source or push target that may not be used, and why (said to the user as it is). */
export class RemoteRefused extends AddressRefused {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteRefused';
  }
}

export interface RemoteUrl {
  scheme: 'https' | 'http' | 'ssh' | 'git';
  /** The URL without any credential: what is shown, stored and logged. */
  display: string;
  host: string;
  port: number;
  /** ssh only: the login name. */
  user: string | null;
  /** The path as git expects it after the host (scp form: relative to the login's home). */
  path: string;
  /** scp form (user@host:path) rather than ssh://. */
  scp: boolean;
  /** user:password from an http(s) URL, split off. */
  credential: { username: string; password: string } | null;
}

const DEFAULT_PORTS = { https: 443, http: 80, ssh: 22, git: 9418 } as const;
// user@host:path, without "://" (git's own rule for the scp form).
const SCP_FORM = /^(?:([^@/\s]+)@)?(\[[^\]]+\]|[^:/\s]+):(?!\/\/)(.*)$/;

function refuseOptionLike(what: string, value: string): void {
  if (value.startsWith('-')) throw new RemoteRefused(`the ${what} must not start with "-"`);
}

/** The URL's form, checked, with its credential split off; RemoteRefused otherwise. */
export function parseRemoteUrl(raw: string, rules: Pick<RemoteRules, 'allowHttp'>): RemoteUrl {
  // eslint-disable-next-line no-control-regex -- control characters and spaces are what is refused
  if (/[\u0000-\u0020\u007f]/.test(raw))
    throw new RemoteRefused('the URL must not contain spaces or control characters');
  // git's <transport>::<address> form (ext::, fd::, a remote helper): never.
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(raw))
    throw new RemoteRefused('the URL is not a valid https://, ssh://, git:// or user@host:path URL');
  const scp = !raw.includes('://') ? SCP_FORM.exec(raw) : null;
  if (scp) {
    const [, user, host, p] = scp;
    const bare = host!.replace(/^\[(.*)\]$/, '$1');
    if (user) refuseOptionLike('user name', user);
    refuseOptionLike('host', bare);
    if (!p) throw new RemoteRefused('the URL has no repository path');
    return {
      scheme: 'ssh',
      display: raw,
      host: bare,
      port: 22,
      user: user ?? null,
      path: p,
      scp: true,
      credential: null,
    };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RemoteRefused('the URL is not a valid https://, ssh://, git:// or user@host:path URL');
  }
  const scheme = url.protocol.slice(0, -1);
  const allowed = ['https', 'ssh', 'git', ...(rules.allowHttp ? ['http'] : [])];
  if (!allowed.includes(scheme)) {
    throw new RemoteRefused(
      `the URL must start with ${allowed.map((s) => `${s}://`).join(', ')} (or be user@host:path)` +
        (scheme === 'http' ? ': http is not allowed (IMPORT_ALLOW_HTTP)' : ''),
    );
  }
  const s = scheme as RemoteUrl['scheme'];
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new RemoteRefused('the URL has no host');
  refuseOptionLike('host', host);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  let credential: RemoteUrl['credential'] = null;
  let user: string | null = null;
  if (s === 'ssh') {
    if (password) throw new RemoteRefused('an ssh URL must not contain a password (ssh uses keys)');
    if (username) refuseOptionLike('user name', username);
    user = username || null;
  } else if (username || password) {
    if (s === 'git') throw new RemoteRefused('a git:// URL cannot carry a credential');
    credential = { username: username || 'x-access-token', password };
  }
  const clean = new URL(url.href);
  clean.password = '';
  if (s !== 'ssh') clean.username = '';
  if (clean.search || clean.hash) throw new RemoteRefused('the URL must not have a query or a fragment');
  if (clean.pathname === '/' || clean.pathname === '') throw new RemoteRefused('the URL has no repository path');
  return {
    scheme: s,
    display: clean.href,
    host,
    port: url.port ? Number(url.port) : DEFAULT_PORTS[s],
    user,
    path: clean.pathname,
    scp: false,
    credential,
  };
}

/** The address git will be made to connect to: resolved once, checked against the rules. */
export async function resolveRemote(remote: RemoteUrl, rules: RemoteRules, lookup: Lookup): Promise<string> {
  const policy = { allowPrivateHosts: rules.allowPrivateHosts, setting: 'IMPORT_ALLOW_PRIVATE_HOSTS' };
  try {
    return (await resolveAllowedHost(remote.host, policy, lookup)).address;
  } catch (err) {
    throw err instanceof AddressRefused ? new RemoteRefused(err.message) : err;
  }
}

/** Replaces every form of every secret in `text` (as is, URL-encoded, base64 in a basic-auth header). */
export function redact(text: string, secrets: Array<string | null | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}
