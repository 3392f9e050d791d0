/**
 * The emulator's TLS material: a local CA (`ca.pem`, `ca-key.pem`, ten years) and a server certificate
 * (`emulator.pem`, `emulator-key.pem`) it signs. The apps trust the CA only for their Microsoft requests
 * (`MS_CA_FILE=<certDir>/ca.pem`, which `npm start` sets when it runs the emulator; libs/graph), the test runner
 * and the benchmarks trust it process-wide (`NODE_EXTRA_CA_CERTS`), so nothing ever turns TLS verification off.
 *
 * The CA carries a critical X.509 name constraint (RFC 5280 4.2.1.10) permitting only the emulator's names:
 * localhost, 127.0.0.1, ::1 and `EMULATOR_HOSTNAMES`. Whoever gets hold of `ca-key.pem` can therefore not mint a
 * certificate that a process or browser trusting the CA would accept for any other host. The CA is created once
 * and kept while it covers the names asked for; asked for a name it does not permit (or found without the
 * constraint, as CAs made before it were), it is replaced by one permitting its old names and the new ones. The
 * server certificate is reissued whenever the requested names change, it nears expiry or the CA changed.
 *
 * Several processes may call this at once (the test runner and the emulator it spawns, `npm start`): the
 * work is done under a lock file in the directory and every file is written to a temporary name and renamed,
 * so no reader ever sees half a file.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';

export interface EnsureCertificatesOptions {
  /** Directory of the CA and the server certificate (created, mode 0700, when missing). */
  certDir: string;
  /** Names and addresses the server certificate must cover; `localhost`, 127.0.0.1 and ::1 always are. */
  hostnames: string[];
  /**
   * File name stem of the server certificate: `emulator` (the default: `emulator.pem`, `emulator-key.pem`,
   * `emulator.json`), or another server's own, e.g. `mail` for the local mail server, signed by the same CA.
   */
  leafName?: string;
}

export interface EmulatorCertificates {
  /** PEM private key of the server certificate */
  key: string;
  /** PEM server certificate */
  cert: string;
  /** PEM CA certificate */
  ca: string;
  /** absolute path of the CA certificate, the value for NODE_EXTRA_CA_CERTS */
  caPath: string;
}

export const CA_COMMON_NAME = 'Email Core Outlook Emulator Local CA';
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_YEARS = 10;
/** The most any browser or Apple platform accepts for a TLS server certificate. */
const LEAF_MAX_VALIDITY_DAYS = 825;
const RENEW_WITHIN_MS = 30 * DAY_MS;
const LOCK_STALE_MS = 30_000;
const LOCK_TIMEOUT_MS = 60_000;

const FILES = {
  ca: 'ca.pem',
  caKey: 'ca-key.pem',
  leaf: 'emulator.pem',
  leafKey: 'emulator-key.pem',
  leafInfo: 'emulator.json',
  extraCaCerts: 'extra-ca-certs.pem',
  lock: '.lock',
} as const;

/** The monorepo root: three levels above this file in the sources, else the nearest folder with a package.json. */
function findRepoRoot(): string {
  const fixed = path.resolve(__dirname, '../../..');
  if (fs.existsSync(path.join(fixed, 'package.json'))) return fixed;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

/** A certificate directory as configured (EMULATOR_CERT_DIR): relative paths are relative to the repo root. */
export function resolveCertDir(dir: string): string {
  return path.resolve(findRepoRoot(), dir);
}

/** `<repo>/.stack/certs`, or EMULATOR_CERT_DIR (relative to the repo root) when set. */
export function defaultCertDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolveCertDir(env.EMULATOR_CERT_DIR || '.stack/certs');
}

export function ensureCertificates(opts: EnsureCertificatesOptions): EmulatorCertificates {
  const dir = path.resolve(opts.certDir);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 }); // only the certificate directory itself is private
  const wanted = sanSet(opts.hostnames);
  return withLock(path.join(dir, FILES.lock), () => {
    const existing = loadCa(dir);
    const ca =
      existing?.permitted && permits(existing.permitted, wanted)
        ? existing
        : createCa(dir, mergeSans(existing?.permitted, wanted));
    const files = leafFiles(opts.leafName);
    const leaf = loadLeaf(dir, ca, wanted, files) ?? createLeaf(dir, ca, wanted, files);
    return { key: leaf.keyPem, cert: leaf.certPem, ca: ca.certPem, caPath: path.join(dir, FILES.ca) };
  });
}

/**
 * The value for NODE_EXTRA_CA_CERTS that makes a Node process trust the emulator's CA. That is the CA file
 * itself, unless `current` (the environment's NODE_EXTRA_CA_CERTS) already names a file of extra CAs (a
 * corporate proxy's, a distribution's bundle): Node reads only one file, so then it is
 * `<certDir>/extra-ca-certs.pem`, that file's certificates followed by the emulator's CA (or `current`
 * unchanged when it already holds the CA).
 */
export function extraCaCertsFile(
  certs: Pick<EmulatorCertificates, 'ca' | 'caPath'>,
  current: string | undefined,
): string {
  if (!current || path.resolve(current) === certs.caPath) return certs.caPath;
  const existing = readIfExists(path.resolve(current));
  if (existing === undefined) return certs.caPath; // Node would only warn and ignore a missing file
  if (existing.includes(certs.ca.trim())) return current;
  const bundle = path.join(path.dirname(certs.caPath), FILES.extraCaCerts);
  const content = `${existing.trimEnd()}\n${certs.ca.trim()}\n`;
  if (readIfExists(bundle) !== content) writeAtomic(bundle, content, 0o644);
  return bundle;
}

// ---------------------------------------------------------------------------------------------------------
// CA

interface LoadedCa {
  certPem: string;
  keyPem: string;
  x509: X509Certificate;
  forgeCert: forge.pki.Certificate;
  forgeKey: forge.pki.rsa.PrivateKey;
  /** the names its critical name constraint permits; undefined for a CA without one (made before it existed) */
  permitted?: SanSet;
}

function loadCa(dir: string): LoadedCa | undefined {
  const certPem = readIfExists(path.join(dir, FILES.ca));
  const keyPem = readIfExists(path.join(dir, FILES.caKey));
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    const x509 = new X509Certificate(certPem);
    if (!x509.ca || !x509.checkPrivateKey(createPrivateKey(keyPem)) || !currentlyValid(x509))
      return undefined;
    const forgeCert = forge.pki.certificateFromPem(certPem);
    return {
      certPem,
      keyPem,
      x509,
      forgeCert,
      forgeKey: forge.pki.privateKeyFromPem(keyPem),
      permitted: permittedNames(forgeCert),
    };
  } catch {
    return undefined; // unreadable: issue a new one
  }
}

function createCa(dir: string, permitted: SanSet): LoadedCa {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = randomSerial();
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime());
  cert.validity.notAfter.setUTCFullYear(now.getUTCFullYear() + CA_VALIDITY_YEARS);
  const name = [
    { name: 'commonName', value: CA_COMMON_NAME },
    { name: 'organizationName', value: 'Email Core (local development)' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    nameConstraintsExtension(permitted),
  ]);
  cert.sign(keys.forgePrivate, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  // The key first: a reader that finds a CA certificate always finds its key (and we hold the lock anyway).
  writeAtomic(path.join(dir, FILES.caKey), keys.privatePem, 0o600);
  writeAtomic(path.join(dir, FILES.ca), certPem, 0o644);
  return {
    certPem,
    keyPem: keys.privatePem,
    x509: new X509Certificate(certPem),
    forgeCert: cert,
    forgeKey: keys.forgePrivate,
    permitted,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Name constraints

const NAME_CONSTRAINTS_OID = '2.5.29.30';
const DNS_NAME = 2;
const IP_ADDRESS = 7;

/**
 * `nameConstraints` (critical) with permittedSubtrees only: a dNSName per name (which RFC 5280 and OpenSSL also
 * let cover its subdomains) and an iPAddress per address with an all-ones mask. Name types without a permitted
 * subtree stay unconstrained, but a TLS client only ever checks DNS names and addresses.
 */
function nameConstraintsExtension(permitted: SanSet): {
  id: string;
  name: string;
  critical: boolean;
  value: forge.asn1.Asn1;
} {
  const { asn1 } = forge;
  const subtree = (type: number, value: string) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, type, false, value),
    ]);
  const trees = [
    // a wildcard name is permitted through its parent domain (a constraint is a domain, never a pattern)
    ...[...new Set(permitted.dns.map(constraintBase))].map((name) => subtree(DNS_NAME, name)),
    ...permitted.ip.map((ip) => {
      const bytes = ipToBytes(ip);
      return subtree(IP_ADDRESS, bytes + '\xff'.repeat(bytes.length));
    }),
  ];
  return {
    id: NAME_CONSTRAINTS_OID,
    name: 'nameConstraints',
    critical: true,
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, trees),
    ]),
  };
}

/** What a CA's critical name constraint permits (DNS names, and addresses with a full mask), or undefined. */
function permittedNames(cert: forge.pki.Certificate): SanSet | undefined {
  // forge parses the extension into its subtrees (types as for subjectAltName, raw bytes for addresses)
  const ext:
    { id?: string; critical?: boolean; permittedSubtrees?: { type: number; value: unknown }[] } | undefined =
    cert.getExtension('nameConstraints');
  if (ext?.id !== NAME_CONSTRAINTS_OID || !ext.critical || !ext.permittedSubtrees?.length) return undefined;
  const dns = new Set<string>();
  const ip = new Set<string>();
  for (const tree of ext.permittedSubtrees) {
    if (typeof tree.value !== 'string') return undefined;
    if (tree.type === DNS_NAME) dns.add(tree.value.toLowerCase());
    else if (tree.type === IP_ADDRESS) {
      const half = tree.value.length / 2;
      if (tree.value.slice(half) !== '\xff'.repeat(half)) return undefined; // not one of ours
      const parsed = bytesToIp(tree.value.slice(0, half));
      if (!parsed) return undefined;
      ip.add(parsed);
    } else return undefined;
  }
  return { dns: [...dns].sort(), ip: [...ip].sort() };
}

/** Whether every name of `wanted` is inside `permitted` (a DNS name also inside a permitted parent domain). */
function permits(permitted: SanSet, wanted: SanSet): boolean {
  const dnsOk = (name: string) =>
    permitted.dns.map(constraintBase).some((base) => {
      const n = constraintBase(name);
      return n === base || n.endsWith(`.${base}`);
    });
  return wanted.dns.every(dnsOk) && wanted.ip.every((ip) => permitted.ip.includes(ip));
}

function constraintBase(name: string): string {
  return name.replace(/^\*\./, '').replace(/^\./, '');
}

function mergeSans(a: SanSet | undefined, b: SanSet): SanSet {
  return {
    dns: [...new Set([...(a?.dns ?? []), ...b.dns])].sort(),
    ip: [...new Set([...(a?.ip ?? []), ...b.ip])].sort(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Server certificate

interface LoadedLeaf {
  certPem: string;
  keyPem: string;
}

interface LeafFiles {
  leaf: string;
  leafKey: string;
  leafInfo: string;
}

function leafFiles(name: string | undefined): LeafFiles {
  if (name === undefined || name === 'emulator') return FILES;
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(name) || name === 'ca' || name === 'extra-ca-certs')
    throw new Error(`not a usable certificate name: "${name}"`);
  return { leaf: `${name}.pem`, leafKey: `${name}-key.pem`, leafInfo: `${name}.json` };
}

function loadLeaf(dir: string, ca: LoadedCa, wanted: SanSet, files: LeafFiles): LoadedLeaf | undefined {
  const certPem = readIfExists(path.join(dir, files.leaf));
  const keyPem = readIfExists(path.join(dir, files.leafKey));
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    const x509 = new X509Certificate(certPem);
    if (!x509.checkIssued(ca.x509) || !x509.verify(ca.x509.publicKey)) return undefined;
    if (!x509.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    if (!currentlyValid(x509)) return undefined;
    if (!sameSans(sansOf(forge.pki.certificateFromPem(certPem)), wanted)) return undefined;
    return { certPem, keyPem };
  } catch {
    return undefined;
  }
}

function createLeaf(dir: string, ca: LoadedCa, sans: SanSet, files: LeafFiles): LoadedLeaf {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = randomSerial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  // notBefore + 825 days at most; never beyond the CA.
  const notAfter = Math.min(
    now + (LEAF_MAX_VALIDITY_DAYS - 1) * DAY_MS,
    ca.forgeCert.validity.notAfter.getTime(),
  );
  cert.validity.notAfter = new Date(notAfter);
  cert.setSubject([
    { name: 'commonName', value: sans.dns[0] ?? 'localhost' },
    { name: 'organizationName', value: 'Email Core Outlook Emulator' },
  ]);
  cert.setIssuer(ca.forgeCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...sans.dns.map((value) => ({ type: 2, value })),
        ...sans.ip.map((ip) => ({ type: 7, value: ipToBytes(ip) })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
    {
      name: 'authorityKeyIdentifier',
      keyIdentifier: ca.forgeCert.generateSubjectKeyIdentifier().getBytes(),
    },
  ]);
  cert.sign(ca.forgeKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  writeAtomic(path.join(dir, files.leafKey), keys.privatePem, 0o600);
  writeAtomic(path.join(dir, files.leaf), certPem, 0o644);
  writeAtomic(
    path.join(dir, files.leafInfo),
    `${JSON.stringify(
      {
        dns: sans.dns,
        ip: sans.ip,
        notAfter: cert.validity.notAfter.toISOString(),
        ca: path.join(dir, FILES.ca),
      },
      null,
      2,
    )}\n`,
    0o644,
  );
  return { certPem, keyPem: keys.privatePem };
}

// ---------------------------------------------------------------------------------------------------------
// Subject alternative names

interface SanSet {
  dns: string[];
  ip: string[];
}

function sanSet(hostnames: string[]): SanSet {
  const dns = new Set<string>(['localhost']);
  const ip = new Set<string>(['127.0.0.1', '::1']);
  for (const raw of hostnames) {
    const h = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (!h) continue;
    const canonical = canonicalIp(h);
    if (canonical) ip.add(canonical);
    else dns.add(h.toLowerCase().replace(/\.$/, ''));
  }
  return { dns: [...dns].sort(), ip: [...ip].sort() };
}

function sansOf(cert: forge.pki.Certificate): SanSet {
  // forge types every extension as {}; this one parses to its altNames.
  const ext: { altNames?: { type: number; value: string }[] } | undefined =
    cert.getExtension('subjectAltName');
  const dns = new Set<string>();
  const ip = new Set<string>();
  for (const n of ext?.altNames ?? []) {
    if (n.type === 2) dns.add(n.value.toLowerCase());
    else if (n.type === 7) {
      const parsed = bytesToIp(n.value);
      if (parsed) ip.add(parsed);
    }
  }
  return { dns: [...dns].sort(), ip: [...ip].sort() };
}

function sameSans(a: SanSet, b: SanSet): boolean {
  return a.dns.join(',') === b.dns.join(',') && a.ip.join(',') === b.ip.join(',');
}

/** The canonical text of an IP address (IPv6 compressed and lower case), or undefined for a DNS name. */
function canonicalIp(s: string): string | undefined {
  const bare = s.replace(/%.*$/, ''); // zone ids have no place in a certificate
  const family = net.isIP(bare);
  if (family === 4) return bare.split('.').map(Number).join('.');
  if (family === 6) return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  return undefined;
}

/** Network-order bytes (a forge byte string) of a canonical IP address. */
function ipToBytes(ip: string): string {
  if (net.isIPv4(ip)) return String.fromCharCode(...ip.split('.').map(Number));
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.map((g) => String.fromCharCode(parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff)).join('');
}

function bytesToIp(bytes: string): string | undefined {
  const b = Array.from(bytes, (c) => c.charCodeAt(0));
  if (b.length === 4) return b.join('.');
  if (b.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return canonicalIp(groups.join(':'));
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function rsaKeyPair(): {
  privatePem: string;
  forgePrivate: forge.pki.rsa.PrivateKey;
  forgePublic: forge.pki.rsa.PublicKey;
} {
  // Node's OpenSSL is orders of magnitude faster than forge's JavaScript key generation.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    privatePem: privateKey,
    forgePrivate: forge.pki.privateKeyFromPem(privateKey),
    forgePublic: forge.pki.publicKeyFromPem(publicKey),
  };
}

/** 16 random bytes, hex, with a first byte in 0x01..0x7f: a positive DER INTEGER with no leading zero. */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b.toString('hex');
}

function currentlyValid(x509: X509Certificate): boolean {
  const now = Date.now();
  return (
    new Date(x509.validFrom).getTime() <= now && new Date(x509.validTo).getTime() - now > RENEW_WITHIN_MS
  );
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a temporary file beside `file` and renames it over `file`, so readers see the old or the new bytes. */
function writeAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data, { mode, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/**
 * Runs `fn` holding `<dir>/.lock` (created exclusively, holding "pid host"). A lock left by a process that is
 * gone (same host), or older than 30 s, is broken; generating both keys and certificates takes well under 1 s.
 */
function withLock<T>(lockPath: string, fn: () => T): T {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      fs.writeFileSync(lockPath, `${process.pid} ${os.hostname()}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (lockIsStale(lockPath)) {
        fs.rmSync(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${lockPath}; delete it if no other process is using it`);
      }
      sleepSync(25 + Math.floor(Math.random() * 50));
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockPath, { force: true });
  }
}

function lockIsStale(lockPath: string): boolean {
  try {
    const stat = fs.statSync(lockPath);
    if (Date.now() - stat.mtimeMs > LOCK_STALE_MS) return true;
    const [pidText, host] = fs.readFileSync(lockPath, 'utf8').trim().split(' ');
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid <= 0 || host !== os.hostname()) return false; // still being written, or elsewhere
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false; // vanished between the calls: just retry
  }
}

// Exported for the unit tests.
export const __test = { sanSet, canonicalIp, ipToBytes, bytesToIp, permittedNames, permits };
