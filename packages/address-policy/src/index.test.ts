import { AddressRefused, nonPublicKind, resolveAllowedHost, type Lookup } from './index';

// The rules both webhooks (target.test.ts) and git remotes (remote-url.test.ts) rely on; each
// package's tests check them through its own URLs and setting names.

const lookupOf =
  (names: Record<string, string[]>): Lookup =>
  (hostname) => {
    const addresses = names[hostname];
    if (!addresses) return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };

const refusal = async (host: string, allowPrivateHosts: boolean, lookup: Lookup) => {
  try {
    await resolveAllowedHost(host, { allowPrivateHosts, setting: 'SOME_SETTING' }, lookup);
  } catch (err) {
    if (err instanceof AddressRefused) return err.message;
    throw err;
  }
  return null;
};

describe('address policy', () => {
  it('names the kind of each non-public address, and none for a public one', () => {
    expect(nonPublicKind('93.184.216.34')).toBeNull();
    expect(nonPublicKind('::ffff:10.0.0.1')).toBe('a private address');
    expect(nonPublicKind('169.254.169.254')).toBe('a link-local address (where cloud metadata services answer)');
    expect(nonPublicKind('224.0.0.1')).toBe('a non-public address (multicast)');
    expect(nonPublicKind('example.com')).toBe('not an IP address');
    // ::/96 embeds an IPv4 address in its last 32 bits (RFC 4291's deprecated form); ipaddr.js
    // calls ::7f00:1 unicast, though it is ::127.0.0.1, which it calls loopback.
    for (const a of ['::7f00:1', '::a00:1', '::5db8:d822'])
      expect(nonPublicKind(a)).toBe('an IPv4-compatible address (deprecated, ::/96)');
    expect(nonPublicKind('::1')).toBe('a loopback address');
    expect(nonPublicKind('::')).toBe('the unspecified address');
  });

  it("refuses a name with any non-public address, naming the caller's setting; allows it with the setting", async () => {
    const lookup = lookupOf({ 'mixed.example.test': ['93.184.216.34', '10.1.2.3'] });
    expect(await refusal('mixed.example.test', false, lookup)).toBe(
      'mixed.example.test resolves to 10.1.2.3, a private address: not allowed (SOME_SETTING)',
    );
    expect(await refusal('mixed.example.test', true, lookup)).toBeNull();
    expect(await refusal('::1', false, lookup)).toBe('::1 is a loopback address: not allowed (SOME_SETTING)');
    expect(await refusal('gone.example.test', true, lookup)).toBe('gone.example.test does not resolve (ENOTFOUND)');
  });

  it('answers the first address, resolved once', async () => {
    let lookups = 0;
    const lookup: Lookup = (h) => {
      lookups++;
      return lookupOf({ 'two.example.test': ['2606:2800:220:1::1', '93.184.216.34'] })(h);
    };
    const policy = { allowPrivateHosts: false, setting: 'S' };
    expect(await resolveAllowedHost('two.example.test', policy, lookup)).toEqual({
      address: '2606:2800:220:1::1',
      family: 6,
    });
    expect(lookups).toBe(1);
  });
});
