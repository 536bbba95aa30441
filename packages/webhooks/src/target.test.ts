import { refusedAddress, resolveTarget, systemLookup, TargetRefused, type Lookup } from './target';

// The SSRF rules. `localhost` goes through the system resolver (/etc/hosts: loopback); other
// names resolve through a lookup injected as dns.lookup would be, since no hosts-file entry or
// DNS server of our own is available here.

const strict = { allowHttp: false, allowPrivateHosts: false };
const open = { allowHttp: true, allowPrivateHosts: true };

/** A resolver that knows only `names`. */
const lookupOf =
  (names: Record<string, string[]>): Lookup =>
  (hostname) => {
    const addresses = names[hostname];
    if (!addresses) return Promise.reject(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };

const refusal = async (url: string, rules = strict, lookup: Lookup = systemLookup) => {
  try {
    await resolveTarget(url, rules, lookup);
  } catch (err) {
    if (err instanceof TargetRefused) return err.message;
    throw err;
  }
  return null;
};

describe('webhook targets', () => {
  it.each([
    ['https://127.0.0.1/hook', '127.0.0.1 is a loopback address'],
    ['https://10.0.0.1/hook', '10.0.0.1 is a private address'],
    [
      'https://169.254.169.254/latest/meta-data/',
      '169.254.169.254 is a link-local address (where cloud metadata services answer)',
    ],
    ['https://[::1]/hook', '::1 is a loopback address'],
    ['https://192.168.1.10/hook', '192.168.1.10 is a private address'],
    ['https://172.16.0.1/hook', '172.16.0.1 is a private address'],
    ['https://100.100.100.200/hook', '100.100.100.200 is a shared (carrier-grade NAT) address'],
    ['https://0.0.0.0/hook', '0.0.0.0 is the unspecified address'],
    ['https://[fd00:ec2::254]/hook', 'fd00:ec2::254 is a private address'],
    ['https://[::ffff:127.0.0.1]/hook', '::ffff:7f00:1 is a loopback address'],
    ['https://[fe80::1]/hook', 'fe80::1 is a link-local address (where cloud metadata services answer)'],
  ])('refuses %s without WEBHOOK_ALLOW_PRIVATE_HOSTS', async (url, why) => {
    expect(await refusal(url)).toBe(`${why}: not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)`);
  });

  it('refuses a name that resolves to loopback: localhost, through the system resolver', async () => {
    expect(await refusal('https://localhost:8443/hook')).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), a loopback address: not allowed \(WEBHOOK_ALLOW_PRIVATE_HOSTS\)$/,
    );
  });

  it('refuses a name that resolves to loopback, and one with any private address among public ones', async () => {
    const lookup = lookupOf({
      'hooks.example.test': ['127.0.0.1'],
      'mixed.example.test': ['93.184.216.34', '10.1.2.3'],
    });
    expect(await refusal('https://hooks.example.test/x', strict, lookup)).toBe(
      'hooks.example.test resolves to 127.0.0.1, a loopback address: not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)',
    );
    expect(await refusal('https://mixed.example.test/x', strict, lookup)).toBe(
      'mixed.example.test resolves to 10.1.2.3, a private address: not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)',
    );
  });

  it('resolves a public name once, to the address the request will be sent to', async () => {
    let lookups = 0;
    const lookup: Lookup = (hostname) => {
      lookups++;
      return lookupOf({ 'hooks.example.test': ['93.184.216.34', '2606:2800:220:1::1'] })(hostname);
    };
    const target = await resolveTarget('https://hooks.example.test:8443/in?x=1', strict, lookup);
    expect(target).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(target.url.href).toBe('https://hooks.example.test:8443/in?x=1');
    expect(lookups).toBe(1);
  });

  it('allows https only, unless WEBHOOK_ALLOW_HTTP; no credentials in the URL; a name that does not resolve', async () => {
    const lookup = lookupOf({ 'hooks.example.test': ['93.184.216.34'] });
    expect(await refusal('http://hooks.example.test/x', strict, lookup)).toBe(
      'url must start with https:// (http is not allowed)',
    );
    expect(await refusal('http://hooks.example.test/x', { ...strict, allowHttp: true }, lookup)).toBeNull();
    expect(await refusal('ftp://hooks.example.test/x', { ...strict, allowHttp: true }, lookup)).toBe(
      'url must start with https:// or http://',
    );
    expect(await refusal('https://user:pw@hooks.example.test/x', strict, lookup)).toBe(
      'url must not contain a user name or password',
    );
    expect(await refusal('not a url', strict, lookup)).toBe('url is not a valid absolute URL');
    expect(await refusal('https://nowhere.example.test/x', strict, lookup)).toBe(
      'nowhere.example.test does not resolve (ENOTFOUND)',
    );
  });

  it('allows private, loopback and link-local addresses with WEBHOOK_ALLOW_PRIVATE_HOSTS=true', async () => {
    for (const url of ['http://127.0.0.1:9/x', 'http://[::1]:9/x', 'http://10.0.0.1/x', 'http://localhost:9/x']) {
      expect(await refusal(url, open)).toBeNull();
    }
    expect(refusedAddress('169.254.169.254', { allowPrivateHosts: true })).toBeNull();
  });
});
