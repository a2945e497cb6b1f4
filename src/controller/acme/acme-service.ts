// The ACME service (tls.md §7): for every EdgionAcme it keeps a certificate for `domains` from the
// ACME CA in `server`, issued with acme-client, stored under W/acme/ (standalone mode) and loaded by
// the controller as the Secret `storage.secretName`; with `autoEdgionTls` (default on) an EdgionTls
// serving it is generated. Certificates are renewed `renewal.renewBeforeDays` before they expire;
// failures are retried after `renewal.failBackoff` seconds, ×4 per attempt, up to 5 times.
//
// HTTP-01: the pending challenge goes into the snapshot; gateways answer
// /.well-known/acme-challenge/<token> on the Gateway's HTTP listeners, and the CA is told to
// validate only once every connected gateway has applied that snapshot. DNS-01: through a DNS
// provider (dns-providers.ts), with a propagation check before validation.

import dns from 'node:dns/promises';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import * as acme from 'acme-client';
import type { SchemaValidator } from '../../api/index.js';
import type { Logger } from '../../shared/logger.js';
import type { IncomingResource, Obj, StoredResource } from '../store/resource-store.js';
import { identifyDocument, type ExtraValidator } from '../validate/identify.js';
import { ACME_LABELS, type AcmeChallengeState, type AcmeState } from './acme-types.js';
import { AcmeStorage } from './acme-storage.js';
import { dnsProvider, type DnsChallenge } from './dns-providers.js';

export const LETSENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
const CHALLENGE_TTL_S = 600;
const MAX_RETRIES = 5;

/** What the service needs from the controller process. */
export interface AcmeHost {
  /** Valid (good) resources of a kind. */
  resources(kind: string): StoredResource[];
  /** Recompute and publish; returns the snapshot version. */
  reload(reason: string): number;
  /** Snapshot versions acknowledged by the connected gateways. */
  gatewayAcks(): number[];
}

export interface AcmeServiceOptions {
  workDir: string;
  logger: Logger;
  validator: SchemaValidator;
  extraValidator?: ExtraValidator;
  now?: () => Date;
  /** Backoff of acme-client's polling (ms); tests shorten it. */
  pollMinMs?: number;
}

interface Spec {
  server: string;
  email: string;
  domains: string[];
  keyType: 'ecdsa-p256' | 'ecdsa-p384';
  challengeType: 'http-01' | 'dns-01';
  dns01: Record<string, unknown>;
  credentialRef?: { name: string; namespace?: string };
  renewBeforeDays: number;
  checkIntervalS: number;
  failBackoffS: number;
  eab?: { kid: string; hmacKey: string };
  secretName: string;
  secretNamespace: string;
  autoEdgionTls: boolean;
  edgionTlsName: string;
  parentRefs: Obj[];
  gatewayRef?: { name: string; namespace: string };
  caSecret?: string;
}

interface Job {
  key: string;
  namespace: string;
  name: string;
  generation: number;
  spec: Spec;
  state: AcmeState;
  timer: NodeJS.Timeout | undefined;
  running: boolean;
  rerun: boolean;
  failures: number;
  removed: boolean;
}

function specOf(r: StoredResource): Spec {
  const obj = r.good!;
  const spec = (obj.spec ?? {}) as Obj;
  const ns = r.namespace ?? 'default';
  const challenge = (spec.challenge ?? {}) as Obj;
  const dns01 = (challenge.dns01 ?? {}) as Obj;
  const http01 = (challenge.http01 ?? {}) as Obj;
  const renewal = (spec.renewal ?? {}) as Obj;
  const storage = (spec.storage ?? {}) as Obj;
  const auto = (spec.autoEdgionTls ?? {}) as Obj;
  const eab = spec.externalAccountBinding as Obj | undefined;
  const gwRef = http01.gatewayRef as Obj | undefined;
  const cred = dns01.credentialRef as Obj | undefined;
  const ann = ((obj.metadata as Obj | undefined)?.annotations ?? {}) as Record<string, string>;
  return {
    server: String(spec.server ?? LETSENCRYPT_DIRECTORY),
    email: String(spec.email ?? ''),
    domains: ((spec.domains ?? []) as string[]).map((d) => d.toLowerCase()),
    keyType: spec.keyType === 'ecdsa-p384' ? 'ecdsa-p384' : 'ecdsa-p256',
    challengeType: challenge.type === 'dns-01' ? 'dns-01' : 'http-01',
    dns01,
    ...(cred?.name ? { credentialRef: { name: String(cred.name), ...(cred.namespace ? { namespace: String(cred.namespace) } : {}) } } : {}),
    renewBeforeDays: Number(renewal.renewBeforeDays ?? 30),
    checkIntervalS: Number(renewal.checkInterval ?? 86_400),
    failBackoffS: Number(renewal.failBackoff ?? 300),
    ...(eab?.keyId && eab.hmacKey ? { eab: { kid: String(eab.keyId), hmacKey: String(eab.hmacKey) } } : {}),
    secretName: String(storage.secretName),
    secretNamespace: String(storage.secretNamespace ?? ns),
    autoEdgionTls: auto.enabled !== false,
    edgionTlsName: String(auto.name ?? `acme-${r.name}`),
    parentRefs: (auto.parentRefs ?? []) as Obj[],
    ...(gwRef?.name ? { gatewayRef: { name: String(gwRef.name), namespace: String(gwRef.namespace ?? ns) } } : {}),
    ...(ann['edgion.io/acme-ca-secret'] ? { caSecret: ann['edgion.io/acme-ca-secret'] } : {}),
  };
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (net.isIPv4(h) && h.startsWith('127.'));
}

/** TLS trust per ACME directory origin (acme-client shares one axios instance). */
const agents = new Map<string, https.Agent>();
let interceptorInstalled = false;
function installTrust(): void {
  if (interceptorInstalled) return;
  interceptorInstalled = true;
  // Network errors and 5xx: a few quick retries (a Retry-After header still wins), then the
  // service's own backoff (renewal.failBackoff) takes over.
  const settings = (acme.axios.defaults as unknown as { acmeSettings?: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
  if (settings) {
    settings.retryMaxAttempts = 3;
    settings.retryDefaultDelay = 1;
  }
  acme.axios.interceptors.request.use((config) => {
    try {
      const origin = new URL(String(config.url)).origin;
      const agent = agents.get(origin);
      if (agent) config.httpsAgent = agent;
    } catch {
      // not a URL: leave it
    }
    return config;
  });
}

function secretOf(host: AcmeHost, namespace: string, name: string): Record<string, string> | undefined {
  const s = host.resources('Secret').find((r) => r.namespace === namespace && r.name === name)?.good;
  if (!s) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((s.data ?? {}) as Obj)) if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries((s.stringData ?? {}) as Obj)) if (typeof v === 'string') out[k] = v;
  return out;
}

export class AcmeService {
  readonly storage: AcmeStorage;
  private readonly jobs = new Map<string, Job>();
  private generated: IncomingResource[] = [];
  private generatedSig = '[]';
  private host: AcmeHost | undefined;
  private closed = false;
  private syncing = false;

  constructor(private readonly opts: AcmeServiceOptions) {
    this.storage = new AcmeStorage(opts.workDir, opts.validator, opts.extraValidator);
    installTrust();
    acme.setLogger((m) => opts.logger.debug({ acme: true }, m));
  }

  attach(host: AcmeHost): void {
    this.host = host;
  }

  private now(): Date {
    return (this.opts.now ?? (() => new Date()))();
  }

  /** States for the translator (EdgionAcme status, HTTP-01 challenges). */
  states(): Map<string, AcmeState> {
    const out = new Map<string, AcmeState>();
    for (const j of this.jobs.values()) out.set(j.key, { ...j.state, challenges: [...j.state.challenges] });
    return out;
  }

  /** Stored Secrets and generated EdgionTls, loaded by the controller like folder resources. */
  extraResources(): IncomingResource[] {
    return [...this.storage.resources(), ...this.generated];
  }

  /** After every controller reload: start, update or stop jobs to match the EdgionAcme resources. */
  sync(): void {
    const host = this.host;
    if (!host || this.closed || this.syncing) return;
    this.syncing = true;
    try {
      const seen = new Set<string>();
      for (const r of host.resources('EdgionAcme')) {
        const key = `${r.namespace ?? 'default'}/${r.name}`;
        seen.add(key);
        const spec = specOf(r);
        const job = this.jobs.get(key);
        if (!job) {
          const j: Job = { key, namespace: r.namespace ?? 'default', name: r.name, generation: r.goodGeneration, spec, state: { phase: 'Pending', challenges: [], secretName: spec.secretName, secretNamespace: spec.secretNamespace }, timer: undefined, running: false, rerun: false, failures: 0, removed: false };
          this.jobs.set(key, j);
          this.schedule(j, 0);
        } else if (job.generation !== r.goodGeneration) {
          job.generation = r.goodGeneration;
          job.spec = spec;
          job.failures = 0;
          this.schedule(job, 0);
        }
      }
      for (const [key, job] of this.jobs) {
        if (seen.has(key)) continue;
        job.removed = true;
        if (job.timer) clearTimeout(job.timer);
        this.jobs.delete(key);
      }
      this.regenerate();
    } finally {
      this.syncing = false;
    }
  }

  /** Manual trigger (admin API): check now. */
  trigger(namespace: string, name: string): boolean {
    const job = this.jobs.get(`${namespace}/${name}`);
    if (!job) return false;
    job.failures = 0;
    this.schedule(job, 0, true);
    return true;
  }

  close(): void {
    this.closed = true;
    for (const j of this.jobs.values()) if (j.timer) clearTimeout(j.timer);
  }

  private schedule(job: Job, delayMs: number, force = false): void {
    if (job.timer) clearTimeout(job.timer);
    job.state.nextCheckTime = new Date(this.now().getTime() + delayMs).toISOString();
    job.timer = setTimeout(() => void this.run(job, force), Math.min(delayMs, 2 ** 31 - 1));
    job.timer.unref();
  }

  /** The generated EdgionTls of each job whose certificate exists; reload when that set changed. */
  private regenerate(): void {
    const out: IncomingResource[] = [];
    for (const j of this.jobs.values()) {
      const s = j.spec;
      if (!s.autoEdgionTls || !this.storage.readSecret(s.secretNamespace, s.secretName)?.['tls.crt']) continue;
      let parentRefs = s.parentRefs;
      if (parentRefs.length === 0 && s.gatewayRef) {
        const gw = this.host?.resources('Gateway').find((g) => g.namespace === s.gatewayRef!.namespace && g.name === s.gatewayRef!.name)?.good;
        const listeners = (((gw?.spec as Obj | undefined)?.listeners ?? []) as Obj[]).filter((l) => l.protocol === 'HTTPS' || l.protocol === 'TLS');
        parentRefs = listeners.map((l) => ({ name: s.gatewayRef!.name, namespace: s.gatewayRef!.namespace, sectionName: l.name }));
      }
      const value = {
        apiVersion: 'edgion.io/v1',
        kind: 'EdgionTls',
        metadata: { name: s.edgionTlsName, namespace: j.namespace, labels: ACME_LABELS(j.name) },
        spec: { parentRefs, hosts: s.domains, secretRef: { name: s.secretName, namespace: s.secretNamespace } },
      };
      const r = identifyDocument({ file: `acme/${j.namespace}/${s.edgionTlsName}.edgiontls`, index: 0, line: 1, range: [0, 0], value, lineOf: () => 1 }, this.opts.validator, this.opts.extraValidator);
      if (r.resource) out.push(r.resource);
      j.state.edgionTlsName = s.edgionTlsName;
    }
    const sig = JSON.stringify(out.map((r) => r.current));
    if (sig === this.generatedSig) return;
    this.generatedSig = sig;
    this.generated = out;
    queueMicrotask(() => this.host?.reload('acme: generated EdgionTls changed'));
  }

  private changed(reason: string): number {
    return this.host?.reload(reason) ?? 0;
  }

  /**
   * HTTP-01 is answered by gateways: waits until at least one gateway is connected and every
   * connected gateway applied `version` (its listeners are bound by then). Throws after `ms`.
   */
  private async gatewaysAt(version: number, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const acks = this.host?.gatewayAcks() ?? [];
      if (acks.length > 0 && acks.every((v) => v >= version)) return;
      if (this.closed) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const acks = this.host?.gatewayAcks() ?? [];
    throw new Error(acks.length === 0 ? 'no gateway is connected to answer the HTTP-01 challenge' : `the gateways did not apply the HTTP-01 challenge within ${ms / 1000} s`);
  }

  private async run(job: Job, force: boolean): Promise<void> {
    job.timer = undefined;
    if (job.running) {
      job.rerun = true;
      return;
    }
    job.running = true;
    try {
      await this.check(job, force);
    } finally {
      job.running = false;
      if (job.rerun && !job.removed && !this.closed) {
        job.rerun = false;
        this.schedule(job, 0);
      }
    }
  }

  private async check(job: Job, force: boolean): Promise<void> {
    const s = job.spec;
    const log = this.opts.logger.child({ acme: job.key });
    const existing = this.storage.readSecret(s.secretNamespace, s.secretName);
    const now = this.now();
    let notAfter: Date | undefined;
    let covers = false;
    if (existing?.['tls.crt']) {
      try {
        const cert = new X509Certificate(existing['tls.crt']);
        notAfter = new Date(cert.validTo);
        const sans = (cert.subjectAltName ?? '').split(',').map((x) => x.trim().replace(/^DNS:/, '').toLowerCase());
        covers = s.domains.every((d) => sans.includes(d));
        job.state.certificateSerial = cert.serialNumber;
        job.state.certificateNotAfter = notAfter.toISOString();
      } catch {
        notAfter = undefined;
      }
    }
    const renewAt = notAfter ? notAfter.getTime() - s.renewBeforeDays * 86_400_000 : 0;
    if (!force && notAfter && covers && renewAt > now.getTime()) {
      job.state.phase = 'Ready';
      delete job.state.message;
      this.changed('acme: certificate valid');
      this.schedule(job, Math.min(s.checkIntervalS * 1000, renewAt - now.getTime()));
      this.regenerate();
      return;
    }
    const renewing = notAfter !== undefined && notAfter.getTime() > now.getTime();
    job.state.phase = renewing ? 'Renewing' : 'Issuing';
    job.state.message = `${renewing ? 'renewing' : 'requesting'} a certificate for ${s.domains.join(', ')} from ${s.server}`;
    this.changed(`acme: ${job.state.phase}`);
    log.info({ domains: s.domains, server: s.server }, `ACME ${job.key}: ${job.state.message}`);
    try {
      const { cert, key, accountUri } = await this.issue(job);
      this.storage.writeSecret(s.secretNamespace, s.secretName, { 'tls.crt': cert, 'tls.key': key }, ACME_LABELS(job.name), 'kubernetes.io/tls');
      const x = new X509Certificate(cert);
      job.state = {
        ...job.state,
        phase: 'Ready',
        certificateSerial: x.serialNumber,
        certificateNotAfter: new Date(x.validTo).toISOString(),
        lastRenewalTime: this.now().toISOString(),
        accountUri,
        challenges: [],
      };
      delete job.state.message;
      job.failures = 0;
      log.info({ serial: x.serialNumber, notAfter: x.validTo }, `ACME ${job.key}: certificate issued for ${s.domains.join(', ')} (valid until ${x.validTo})`);
      this.regenerate();
      this.changed('acme: certificate issued');
      const next = new Date(x.validTo).getTime() - s.renewBeforeDays * 86_400_000 - this.now().getTime();
      this.schedule(job, Math.max(60_000, Math.min(s.checkIntervalS * 1000, next)));
    } catch (err) {
      if (job.removed) return;
      const reason = (err as Error).message ?? String(err);
      job.failures++;
      job.state.phase = 'Failed';
      job.state.challenges = [];
      job.state.lastFailureReason = reason;
      job.state.lastFailureTime = this.now().toISOString();
      job.state.message = `issuance failed: ${reason}`;
      const retry = job.failures <= MAX_RETRIES;
      const delay = retry ? s.failBackoffS * 1000 * 4 ** (job.failures - 1) : s.checkIntervalS * 1000;
      log.error({ err: reason, attempt: job.failures }, `ACME ${job.key}: issuance failed (${reason}); ${retry ? `retry ${job.failures}/${MAX_RETRIES}` : 'next check'} in ${Math.round(delay / 1000)} s`);
      this.changed('acme: failure');
      this.schedule(job, delay);
    }
  }

  private trust(job: Job): void {
    const s = job.spec;
    const url = new URL(s.server);
    let caPem = s.caSecret ? secretOf(this.host!, job.namespace, s.caSecret)?.['ca.crt'] : undefined;
    if (s.caSecret && !caPem) throw new Error(`annotation edgion.io/acme-ca-secret: Secret ${job.namespace}/${s.caSecret} with ca.crt does not exist`);
    const envCa = process.env.EDGION_ACME_CA_FILE;
    if (!caPem && envCa) {
      try {
        caPem = fs.readFileSync(envCa, 'utf8');
      } catch (err) {
        throw new Error(`EDGION_ACME_CA_FILE ${envCa}: ${(err as Error).message}`);
      }
    }
    if (caPem) agents.set(url.origin, new https.Agent({ ca: caPem, keepAlive: true }));
    else if (url.protocol === 'https:' && isLoopbackHost(url.hostname)) {
      // A CA on this machine (pebble, step-ca in a test): its certificate is usually private.
      agents.set(url.origin, new https.Agent({ rejectUnauthorized: false, keepAlive: true }));
    } else agents.delete(url.origin);
  }

  private accountKey(job: Job): Promise<Buffer> | Buffer {
    const name = `${job.name}-acme-account`;
    const stored = this.storage.readSecret(job.namespace, name)?.['account.key'];
    if (stored) return Buffer.from(stored);
    return acme.crypto.createPrivateEcdsaKey('P-256').then((k) => {
      this.storage.writeSecret(job.namespace, name, { 'account.key': k.toString() }, ACME_LABELS(job.name));
      return k;
    });
  }

  private async issue(job: Job): Promise<{ cert: string; key: string; accountUri: string }> {
    const s = job.spec;
    this.trust(job);
    await this.reachable(s.server);
    const accountKey = await this.accountKey(job);
    const client = new acme.Client({
      directoryUrl: s.server,
      accountKey,
      ...(s.eab ? { externalAccountBinding: s.eab } : {}),
      backoffMin: this.opts.pollMinMs ?? 1000,
      backoffMax: 10_000,
      backoffAttempts: 12,
    });
    const [key, csr] = await acme.crypto.createCsr({ commonName: s.domains.find((d) => !d.startsWith('*.') && d.length <= 64), altNames: s.domains }, await acme.crypto.createPrivateEcdsaKey(s.keyType === 'ecdsa-p384' ? 'P-384' : 'P-256'));
    const provider = s.challengeType === 'dns-01' ? dnsProvider(String(s.dns01.provider ?? '')) : undefined;
    if (s.challengeType === 'dns-01' && !provider) throw new Error(`DNS provider ${JSON.stringify(s.dns01.provider)} is not available (see docs/acme.md for the provider hook)`);
    const credentials = s.credentialRef ? (secretOf(this.host!, s.credentialRef.namespace ?? job.namespace, s.credentialRef.name) ?? {}) : {};
    if (s.credentialRef && Object.keys(credentials).length === 0) throw new Error(`credential Secret ${s.credentialRef.namespace ?? job.namespace}/${s.credentialRef.name} does not exist`);
    const dnsChallenge = (authz: acme.Authorization, value: string): DnsChallenge => ({ fqdn: `_acme-challenge.${authz.identifier.value}`, value, domain: authz.identifier.value, credentials, config: s.dns01 });

    const cert = await client.auto({
      csr,
      email: s.email,
      termsOfServiceAgreed: true,
      challengePriority: [s.challengeType],
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (job.removed) throw new Error('EdgionAcme removed');
        if (challenge.type === 'http-01') {
          const c: AcmeChallengeState = { domain: authz.identifier.value, token: (challenge as { token: string }).token, keyAuthorization, expireAt: Math.floor(this.now().getTime() / 1000) + CHALLENGE_TTL_S };
          job.state.challenges.push(c);
          const version = this.changed('acme: http-01 challenge');
          await this.gatewaysAt(version);
        } else if (challenge.type === 'dns-01' && provider) {
          const c = dnsChallenge(authz, keyAuthorization);
          await provider.present(c);
          await this.propagated(c, provider.propagationServers?.(s.dns01));
        } else {
          throw new Error(`challenge type ${challenge.type} is not supported`);
        }
      },
      challengeRemoveFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type === 'http-01') {
          job.state.challenges = job.state.challenges.filter((c) => c.token !== (challenge as { token: string }).token);
          this.changed('acme: http-01 challenge done');
        } else if (provider) await provider.cleanup(dnsChallenge(authz, keyAuthorization));
      },
    });
    return { cert, key: key.toString(), accountUri: client.getAccountUrl() };
  }

  /** Fetches the directory once, so an unreachable or untrusted CA fails with a clear reason. */
  private reachable(server: string): Promise<void> {
    const url = new URL(server);
    return new Promise((resolve, reject) => {
      const lib = url.protocol === 'http:' ? http : https;
      const req = lib.get(url, { agent: agents.get(url.origin) ?? (url.protocol === 'http:' ? undefined : https.globalAgent), timeout: 15_000 }, (res) => {
        res.resume();
        if ((res.statusCode ?? 0) >= 400) reject(new Error(`ACME directory ${server} answered HTTP ${res.statusCode}`));
        else resolve();
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: Error & { code?: string }) => reject(new Error(`cannot reach the ACME directory ${server}: ${err.code ?? ''} ${err.message}`.replace(/ +/g, ' '))));
    });
  }

  /** Polls the TXT record until it holds the value (`servers` [] = no check). */
  private async propagated(c: DnsChallenge, servers: string[] | undefined): Promise<void> {
    if (servers !== undefined && servers.length === 0) return;
    const timeoutS = Number(c.config.propagationTimeout ?? 120);
    const intervalS = Number(c.config.propagationCheckInterval ?? 5);
    const resolver = new dns.Resolver({ timeout: 3000, tries: 1 });
    if (servers) resolver.setServers(servers);
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      try {
        const records = await resolver.resolveTxt(c.fqdn);
        if (records.some((parts) => parts.join('') === c.value)) return;
      } catch {
        // not there yet
      }
      if (Date.now() > deadline) throw new Error(`TXT record ${c.fqdn} did not appear within ${timeoutS} s`);
      await new Promise((r) => setTimeout(r, Math.max(200, intervalS * 1000)));
    }
  }
}
