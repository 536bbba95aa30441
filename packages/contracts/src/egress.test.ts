import { defaultEgressAllow, egressAllows, parseEgressAllow, parseEgressAllowEntry } from './egress';

describe('WORKER_EGRESS_ALLOW entries', () => {
  it('are host:port, *.domain:port or [v6]:port, normalised', () => {
    expect(parseEgressAllow(['API.OpenAI.com.:443', '*.example.org:8443', '[::1]:80', '192.0.2.2:5000'])).toEqual([
      { host: 'api.openai.com', port: 443 },
      { host: '*.example.org', port: 8443 },
      { host: '::1', port: 80 },
      { host: '192.0.2.2', port: 5000 },
    ]);
  });

  it('say what is wrong with a bad one', () => {
    expect(() => parseEgressAllowEntry('api.openai.com')).toThrow('"api.openai.com" is not host:port');
    expect(() => parseEgressAllowEntry('api.openai.com:0')).toThrow('the port must be 1-65535');
    expect(() => parseEgressAllowEntry('https://api.openai.com:443')).toThrow('is not host:port');
    expect(() => parseEgressAllowEntry('a b:443')).toThrow('"a b" is not a host name');
  });

  it('allow the same host and port only; a wildcard any subdomain, not the domain itself', () => {
    const allow = parseEgressAllow(['api.openai.com:443', '*.example.org:443', '[::1]:80']);
    expect(egressAllows(allow, 'api.openai.com', 443)).toBe(true);
    expect(egressAllows(allow, 'API.openai.com.', 443)).toBe(true);
    expect(egressAllows(allow, 'api.openai.com', 80)).toBe(false);
    expect(egressAllows(allow, 'evil-api.openai.com', 443)).toBe(false);
    expect(egressAllows(allow, 'api.openai.com.evil.example', 443)).toBe(false);
    expect(egressAllows(allow, 'a.b.example.org', 443)).toBe(true);
    expect(egressAllows(allow, 'example.org', 443)).toBe(false);
    expect(egressAllows(allow, 'badexample.org', 443)).toBe(false);
    expect(egressAllows(allow, '[::1]', 80)).toBe(true);
  });

  it('default to the model endpoint’s host and port', () => {
    expect(defaultEgressAllow(undefined)).toEqual(['api.openai.com:443']);
    expect(defaultEgressAllow('http://192.0.2.2:4000/v1')).toEqual(['192.0.2.2:4000']);
    expect(defaultEgressAllow('http://gateway.internal/v1')).toEqual(['gateway.internal:80']);
    expect(defaultEgressAllow('https://[2001:db8::1]/v1')).toEqual(['[2001:db8::1]:443']);
  });
});
