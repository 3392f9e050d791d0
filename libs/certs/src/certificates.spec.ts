import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { __test, defaultCertDir, ensureCertificates, extraCaCertsFile } from './certificates';

const repoRoot = path.resolve(__dirname, '../../..');

function sign(cert: forge.pki.Certificate, keyPem: string): string {
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** a CA as versions before the name constraint made it (the same key) */
function selfSignedCa(caKeyPem: string): string {
  const key = forge.pki.privateKeyFromPem(caKeyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '0badca';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 5 * 365 * 24 * 3600_000);
  const name = [{ name: 'commonName', value: 'Email Core Outlook Emulator Local CA' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  return sign(cert, caKeyPem);
}

/** a server certificate for `host`, signed with the CA's key */
function forgeLeaf(caKeyPem: string, caPem: string, host: string): string {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const ca = forge.pki.certificateFromPem(caPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '0bad1eaf';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 30 * 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: host }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: host }] },
  ]);
  return sign(cert, caKeyPem);
}

describe('ensureCertificates', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-certs-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates a CA and a server certificate it signed, covering the names asked for plus localhost', () => {
    const certDir = path.join(dir, 'nested', 'certs');
    const r = ensureCertificates({ certDir, hostnames: ['emulator.test', '10.1.2.3'] });

    expect(r.caPath).toBe(path.join(certDir, 'ca.pem'));
    expect(fs.readFileSync(r.caPath, 'utf8')).toBe(r.ca);
    expect(fs.statSync(certDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(certDir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(certDir, 'emulator-key.pem')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(certDir).sort()).toEqual(
      ['ca-key.pem', 'ca.pem', 'emulator-key.pem', 'emulator.json', 'emulator.pem'].sort(),
    );

    const ca = new X509Certificate(r.ca);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain('CN=Email Core Outlook Emulator Local CA');
    expect(ca.checkIssued(ca)).toBe(true);
    const caYears = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / (365.25 * 24 * 3600 * 1000);
    expect(caYears).toBeGreaterThan(9.9);
    expect(parseInt(ca.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);

    const leaf = new X509Certificate(r.cert);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    const leafDays = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / (24 * 3600 * 1000);
    expect(leafDays).toBeLessThanOrEqual(825);
    expect(leafDays).toBeGreaterThan(800);
    for (const name of ['emulator.test', 'localhost']) expect(leaf.checkHost(name)).toBe(name);
    for (const ip of ['10.1.2.3', '127.0.0.1', '::1']) expect(leaf.checkIP(ip)).toBe(ip);
    expect(leaf.checkHost('other.test')).toBeUndefined();
  });

  it('issues another server its own certificate (leafName) under the same CA, leaving the emulator one alone', () => {
    const emulator = ensureCertificates({ certDir: dir, hostnames: ['localhost'] });
    const mail = ensureCertificates({ certDir: dir, hostnames: [], leafName: 'mail' });
    expect(mail.ca).toBe(emulator.ca);
    expect(mail.cert).not.toBe(emulator.cert);
    expect(fs.readFileSync(path.join(dir, 'mail.pem'), 'utf8')).toBe(mail.cert);
    expect(fs.statSync(path.join(dir, 'mail-key.pem')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, 'emulator.pem'), 'utf8')).toBe(emulator.cert);
    const leaf = new X509Certificate(mail.cert);
    expect(leaf.checkIssued(new X509Certificate(mail.ca))).toBe(true);
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(ensureCertificates({ certDir: dir, hostnames: [], leafName: 'mail' })).toEqual(mail);
    expect(() => ensureCertificates({ certDir: dir, hostnames: [], leafName: '../x' })).toThrow(/name/);
  });

  it('reuses what it made, and reissues only the server certificate when the names change within the CA', () => {
    const first = ensureCertificates({ certDir: dir, hostnames: ['localhost', '127.0.0.1', 'mail.test'] });
    const caKey = fs.readFileSync(path.join(dir, 'ca-key.pem'), 'utf8');

    const again = ensureCertificates({
      certDir: dir,
      hostnames: ['127.0.0.1', 'MAIL.test', 'LOCALHOST', '::1'],
    });
    expect(again).toEqual(first);

    // a subdomain of a permitted name is inside the CA's constraint: only the server certificate changes
    const renamed = ensureCertificates({ certDir: dir, hostnames: ['localhost', 'eu.mail.test'] });
    expect(renamed.ca).toBe(first.ca);
    expect(fs.readFileSync(path.join(dir, 'ca-key.pem'), 'utf8')).toBe(caKey);
    expect(renamed.cert).not.toBe(first.cert);
    expect(renamed.key).not.toBe(first.key);
    expect(new X509Certificate(renamed.cert).checkHost('eu.mail.test')).toBe('eu.mail.test');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'emulator.json'), 'utf8'))).toMatchObject({
      dns: ['eu.mail.test', 'localhost'],
      ip: ['127.0.0.1', '::1'],
    });
  });

  it('puts a critical name constraint on the CA permitting only the emulator names, as openssl reads it', () => {
    const r = ensureCertificates({ certDir: dir, hostnames: ['emulator.test', '10.1.2.3', 'fd00::5'] });
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: r.ca }).toString();
    expect(text).toMatch(/X509v3 Name Constraints: critical\s*\n\s*Permitted:\s*\n/);
    const permitted = text
      .slice(text.indexOf('Permitted:'))
      .split('\n')
      .slice(1, 7)
      .map((l) => l.trim());
    expect(permitted).toEqual([
      'DNS:emulator.test',
      'DNS:localhost',
      'IP:10.1.2.3/255.255.255.255',
      'IP:127.0.0.1/255.255.255.255',
      'IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF',
      'IP:FD00:0:0:0:0:0:0:5/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF',
    ]);
    expect(__test.permittedNames(forge.pki.certificateFromPem(r.ca))).toEqual({
      dns: ['emulator.test', 'localhost'],
      ip: ['10.1.2.3', '127.0.0.1', '::1', 'fd00::5'],
    });
  });

  it('OpenSSL verifies the server certificate under the constrained CA, and refuses one it signs for another host', () => {
    const r = ensureCertificates({ certDir: dir, hostnames: ['localhost', '127.0.0.1', 'emulator.test'] });
    const caFile = path.join(dir, 'ca.pem');
    const verify = (leafPem: string) =>
      spawnSync('openssl', ['verify', '-CAfile', caFile, '-purpose', 'sslserver'], { input: leafPem });
    const ok = verify(r.cert);
    expect(ok.stdout.toString()).toContain('OK');
    expect(ok.status).toBe(0);

    // what someone holding ca-key.pem could mint: a certificate for a real host, properly signed by the CA
    const outside = forgeLeaf(
      fs.readFileSync(path.join(dir, 'ca-key.pem'), 'utf8'),
      r.ca,
      'login.microsoftonline.com',
    );
    expect(new X509Certificate(outside).verify(new X509Certificate(r.ca).publicKey)).toBe(true);
    const refused = verify(outside);
    expect(refused.status).not.toBe(0);
    expect(`${refused.stdout.toString()}${refused.stderr.toString()}`).toMatch(/permitted subtree violation/);
  });

  it('replaces a CA without the name constraint (made by an older version), and the server certificate with it', () => {
    const old = ensureCertificates({ certDir: dir, hostnames: ['localhost'] });
    // rewrite the CA as older versions made it: same key, no nameConstraints extension
    const caKeyPem = fs.readFileSync(path.join(dir, 'ca-key.pem'), 'utf8');
    const unconstrained = selfSignedCa(caKeyPem);
    fs.writeFileSync(path.join(dir, 'ca.pem'), unconstrained);
    expect(__test.permittedNames(forge.pki.certificateFromPem(unconstrained))).toBeUndefined();

    const renewed = ensureCertificates({ certDir: dir, hostnames: ['localhost'] });
    expect(renewed.ca).not.toBe(unconstrained);
    expect(renewed.ca).not.toBe(old.ca);
    expect(__test.permittedNames(forge.pki.certificateFromPem(renewed.ca))).toEqual({
      dns: ['localhost'],
      ip: ['127.0.0.1', '::1'],
    });
    expect(new X509Certificate(renewed.cert).checkIssued(new X509Certificate(renewed.ca))).toBe(true);
    expect(renewed.cert).not.toBe(old.cert);
  });

  it('replaces the CA, keeping its names, when asked for a name it does not permit', () => {
    const first = ensureCertificates({ certDir: dir, hostnames: ['localhost', 'a.test'] });
    const second = ensureCertificates({ certDir: dir, hostnames: ['localhost', 'b.test', '192.0.2.7'] });
    expect(second.ca).not.toBe(first.ca);
    expect(__test.permittedNames(forge.pki.certificateFromPem(second.ca))).toEqual({
      dns: ['a.test', 'b.test', 'localhost'],
      ip: ['127.0.0.1', '192.0.2.7', '::1'],
    });
    // back to the first names: the CA permits them, so it stays (no flip-flop between npm test and npm start)
    const third = ensureCertificates({ certDir: dir, hostnames: ['localhost', 'a.test'] });
    expect(third.ca).toBe(second.ca);
    expect(new X509Certificate(third.cert).checkIssued(new X509Certificate(second.ca))).toBe(true);
  });

  it('reissues the server certificate when the CA is replaced, and repairs damaged files', () => {
    const first = ensureCertificates({ certDir: dir, hostnames: [] });
    fs.writeFileSync(path.join(dir, 'emulator.pem'), 'garbage');
    const repaired = ensureCertificates({ certDir: dir, hostnames: [] });
    expect(repaired.ca).toBe(first.ca);
    expect(new X509Certificate(repaired.cert).checkIssued(new X509Certificate(first.ca))).toBe(true);

    fs.rmSync(path.join(dir, 'ca.pem'));
    const newCa = ensureCertificates({ certDir: dir, hostnames: [] });
    expect(newCa.ca).not.toBe(first.ca);
    const leaf = new X509Certificate(newCa.cert);
    expect(leaf.checkIssued(new X509Certificate(newCa.ca))).toBe(true);
    expect(leaf.verify(new X509Certificate(newCa.ca).publicKey)).toBe(true);
  });

  it('gives every one of several processes starting at once the same CA', async () => {
    const script = [
      "require('@swc-node/register');",
      `const { ensureCertificates } = require(${JSON.stringify(path.join(__dirname, 'certificates.ts'))});`,
      `const r = ensureCertificates({ certDir: ${JSON.stringify(dir)}, hostnames: ['localhost'] });`,
      'process.stdout.write(JSON.stringify(r));',
    ].join('\n');
    const runs = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ['-e', script], {
              cwd: repoRoot,
              stdio: ['ignore', 'pipe', 'inherit'],
            });
            let out = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.on('error', reject);
            child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
          }),
      ),
    );
    const results = runs.map((o) => JSON.parse(o) as { ca: string; cert: string; key: string });
    for (const r of results) {
      expect(r).toEqual(results[0]);
    }
    expect(results[0].ca).toBe(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'));
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp') || f === '.lock')).toEqual([]);
  }, 60000);

  it('serves HTTPS that a client trusting only the CA accepts for localhost', async () => {
    const { key, cert, ca } = ensureCertificates({ certDir: dir, hostnames: ['localhost', '127.0.0.1'] });
    const server = https.createServer({ key, cert }, (_req, res) => res.end('hello over tls'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const get = (opts: https.RequestOptions) =>
      new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path: '/', agent: false, ...opts }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    try {
      await expect(get({ ca, servername: 'localhost' })).resolves.toBe('hello over tls');
      await expect(get({ ca })).resolves.toBe('hello over tls'); // the IP SAN
      await expect(get({ ca, servername: 'elsewhere.test' })).rejects.toThrow(/altnames/i);
      // Without the CA, this is an untrusted certificate (unless NODE_EXTRA_CA_CERTS names it).
      if (!process.env.NODE_EXTRA_CA_CERTS) {
        await expect(get({ servername: 'localhost' })).rejects.toThrow(/certificate/i);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('extraCaCertsFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-certs-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is the CA itself unless the environment already names extra CAs, which it then adds the CA to', () => {
    const certs = ensureCertificates({ certDir: path.join(dir, 'certs'), hostnames: [] });
    expect(extraCaCertsFile(certs, undefined)).toBe(certs.caPath);
    expect(extraCaCertsFile(certs, '')).toBe(certs.caPath);
    expect(extraCaCertsFile(certs, certs.caPath)).toBe(certs.caPath);
    expect(extraCaCertsFile(certs, path.join(dir, 'missing.pem'))).toBe(certs.caPath);

    const corporate = path.join(dir, 'corporate.pem');
    const other = ensureCertificates({ certDir: path.join(dir, 'other'), hostnames: [] }).ca;
    fs.writeFileSync(corporate, other);
    const bundle = extraCaCertsFile(certs, corporate);
    expect(bundle).toBe(path.join(dir, 'certs', 'extra-ca-certs.pem'));
    const text = fs.readFileSync(bundle, 'utf8');
    expect(text).toContain(other.trim());
    expect(text).toContain(certs.ca.trim());
    expect(extraCaCertsFile(certs, bundle)).toBe(bundle); // already holds the CA
    expect(fs.readFileSync(corporate, 'utf8')).toBe(other); // never edits the user's file
  });
});

describe('defaultCertDir', () => {
  it('is .stack/certs under the repo root unless EMULATOR_CERT_DIR says otherwise', () => {
    expect(defaultCertDir({})).toBe(path.join(repoRoot, '.stack', 'certs'));
    expect(defaultCertDir({ EMULATOR_CERT_DIR: 'tmp/c' })).toBe(path.join(repoRoot, 'tmp', 'c'));
    expect(defaultCertDir({ EMULATOR_CERT_DIR: '/abs/c' })).toBe('/abs/c');
    expect(fs.existsSync(path.join(repoRoot, 'package.json'))).toBe(true);
  });
});

describe('subject alternative names', () => {
  it('normalises names and addresses and always includes the loopback ones', () => {
    expect(__test.sanSet(['Mail.Test.', '[::1]', '::FFFF:1.2.3.4', ' ', '127.0.0.1'])).toEqual({
      dns: ['localhost', 'mail.test'],
      ip: ['127.0.0.1', '::1', '::ffff:102:304'],
    });
  });

  it.each(['127.0.0.1', '10.0.0.255', '::1', 'fe80::1', '2001:db8::8:800:200c:417a', '::'])(
    'round-trips %s through certificate bytes',
    (ip) => {
      expect(__test.bytesToIp(__test.ipToBytes(ip))).toBe(ip);
    },
  );
});
