import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { __test, defaultCertDir, ensureCertificates, extraCaCertsFile } from './certificates';

const repoRoot = path.resolve(__dirname, '../../../..');

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

  it('reuses what it made, and reissues only the server certificate when the names change', () => {
    const first = ensureCertificates({ certDir: dir, hostnames: ['localhost', '127.0.0.1'] });
    const caKey = fs.readFileSync(path.join(dir, 'ca-key.pem'), 'utf8');

    const again = ensureCertificates({ certDir: dir, hostnames: ['127.0.0.1', 'LOCALHOST', '::1'] });
    expect(again).toEqual(first);

    const renamed = ensureCertificates({ certDir: dir, hostnames: ['localhost', 'mail.test'] });
    expect(renamed.ca).toBe(first.ca);
    expect(fs.readFileSync(path.join(dir, 'ca-key.pem'), 'utf8')).toBe(caKey);
    expect(renamed.cert).not.toBe(first.cert);
    expect(renamed.key).not.toBe(first.key);
    expect(new X509Certificate(renamed.cert).checkHost('mail.test')).toBe('mail.test');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'emulator.json'), 'utf8'))).toMatchObject({
      dns: ['localhost', 'mail.test'],
      ip: ['127.0.0.1', '::1'],
    });
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
