// DNS-01 providers: how the ACME service creates and removes the `_acme-challenge` TXT record.
// This is the documented hook (docs/acme.md): a provider is two async functions, registered by name
// with registerDnsProvider(); `challenge.dns01.provider` picks it and `challenge.dns01.credentialRef`
// (a Secret) gives it its credentials. Built in:
//  - `webhook`: POSTs {action: "present" | "cleanup", fqdn, value, domain} as JSON to a URL of
//    yours (credentials `url`, optional `token` sent as a Bearer token). Any DNS API can sit behind it.
//  - `cloudflare`: the Cloudflare v4 API with an API token (credentials `api-token`).
//  - `pebble`: pebble-challtestsrv's management API (for tests): config `challtestsrvUrl`
//    (default http://127.0.0.1:8055), `dnsServer` to check propagation against.

export interface DnsChallenge {
  /** `_acme-challenge.<domain>` (no trailing dot). */
  fqdn: string;
  /** TXT value (base64url SHA-256 of the key authorization). */
  value: string;
  /** The domain being validated (wildcard already stripped). */
  domain: string;
  /** Decoded data of the credential Secret. */
  credentials: Record<string, string>;
  /** `challenge.dns01` as written (provider-specific fields allowed). */
  config: Record<string, unknown>;
}

export interface DnsProvider {
  present(c: DnsChallenge): Promise<void>;
  cleanup(c: DnsChallenge): Promise<void>;
  /**
   * Nameservers (`host` or `host:port`) to poll for the TXT record before asking the CA to validate;
   * `[]` = skip the check; undefined = the system resolver.
   */
  propagationServers?(config: Record<string, unknown>): string[] | undefined;
}

const providers = new Map<string, DnsProvider>();

export function registerDnsProvider(name: string, provider: DnsProvider): void {
  providers.set(name, provider);
}

export function dnsProvider(name: string): DnsProvider | undefined {
  return providers.get(name);
}

export function dnsProviderNames(): string[] {
  return [...providers.keys()].sort();
}

async function send(url: string, init: RequestInit, what: string): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 200)}`);
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

registerDnsProvider('webhook', {
  async present(c) {
    const url = c.credentials.url ?? String(c.config.url ?? '');
    if (!url) throw new Error('webhook DNS provider: set `url` in the credential Secret (or challenge.dns01.url)');
    await send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(c.credentials.token ? { authorization: `Bearer ${c.credentials.token}` } : {}) }, body: JSON.stringify({ action: 'present', fqdn: c.fqdn, value: c.value, domain: c.domain }) }, 'webhook present');
  },
  async cleanup(c) {
    const url = c.credentials.url ?? String(c.config.url ?? '');
    if (!url) return;
    await send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(c.credentials.token ? { authorization: `Bearer ${c.credentials.token}` } : {}) }, body: JSON.stringify({ action: 'cleanup', fqdn: c.fqdn, value: c.value, domain: c.domain }) }, 'webhook cleanup');
  },
});

const CF = 'https://api.cloudflare.com/client/v4';

async function cloudflareZone(token: string, fqdn: string): Promise<string> {
  const labels = fqdn.split('.');
  for (let i = 1; i < labels.length - 1; i++) {
    const name = labels.slice(i).join('.');
    const r = (await send(`${CF}/zones?name=${encodeURIComponent(name)}`, { headers: { authorization: `Bearer ${token}` } }, 'cloudflare zones')) as { result?: { id: string }[] };
    if (r?.result?.length) return r.result[0]!.id;
  }
  throw new Error(`cloudflare: no zone found for ${fqdn}`);
}

registerDnsProvider('cloudflare', {
  async present(c) {
    const token = c.credentials['api-token'];
    if (!token) throw new Error('cloudflare DNS provider: the credential Secret needs `api-token`');
    const zone = await cloudflareZone(token, c.fqdn);
    await send(`${CF}/zones/${zone}/dns_records`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'TXT', name: c.fqdn, content: c.value, ttl: 60 }) }, 'cloudflare create record');
  },
  async cleanup(c) {
    const token = c.credentials['api-token'];
    if (!token) return;
    const zone = await cloudflareZone(token, c.fqdn);
    const list = (await send(`${CF}/zones/${zone}/dns_records?type=TXT&name=${encodeURIComponent(c.fqdn)}`, { headers: { authorization: `Bearer ${token}` } }, 'cloudflare list records')) as { result?: { id: string; content: string }[] };
    for (const r of list?.result ?? []) {
      if (r.content.replace(/^"|"$/g, '') === c.value) await send(`${CF}/zones/${zone}/dns_records/${r.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }, 'cloudflare delete record');
    }
  },
});

registerDnsProvider('pebble', {
  async present(c) {
    const base = String(c.config.challtestsrvUrl ?? c.credentials.url ?? 'http://127.0.0.1:8055');
    await send(`${base}/set-txt`, { method: 'POST', body: JSON.stringify({ host: `${c.fqdn}.`, value: c.value }) }, 'challtestsrv set-txt');
  },
  async cleanup(c) {
    const base = String(c.config.challtestsrvUrl ?? c.credentials.url ?? 'http://127.0.0.1:8055');
    await send(`${base}/clear-txt`, { method: 'POST', body: JSON.stringify({ host: `${c.fqdn}.` }) }, 'challtestsrv clear-txt');
  },
  propagationServers(config) {
    return typeof config.dnsServer === 'string' ? [config.dnsServer] : [];
  },
});
