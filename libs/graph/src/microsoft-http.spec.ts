import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { AuthError } from '@azure/msal-node';
import { execFileSync } from 'node:child_process';
import { MicrosoftNetworkClient, microsoftFetch } from './microsoft-http';

/** a CA of its own and a server certificate for `hostnames` it signed (openssl), made in `certDir` */
function ensureCertificates(opts: { certDir: string; hostnames: string[] }): {
  ca: string;
  key: string;
  cert: string;
} {
  const d = opts.certDir;
  fs.mkdirSync(d, { recursive: true });
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: d, stdio: 'pipe' });
  const san = opts.hostnames.map((h) => `DNS:${h}`).join(',');
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.csr',
    '-subj',
    '/CN=server',
  );
  fs.writeFileSync(path.join(d, 'ext.cnf'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  ssl(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'leaf.pem',
  );
  const read = (f: string) => fs.readFileSync(path.join(d, f), 'utf8');
  return { ca: read('ca.pem'), key: read('leaf.key'), cert: read('leaf.pem') };
}

/**
 * An HTTPS server whose certificate comes from a CA of its own (made here, so neither Node's store nor the
 * test run's NODE_EXTRA_CA_CERTS holds it): only a client given that CA may reach it.
 */
describe('microsoftFetch and MicrosoftNetworkClient (MS_CA_FILE)', () => {
  let dir: string;
  let server: https.Server;
  let origin: string;
  let ca: string;
  const seen: Array<{ method: string; url: string; body: string; type?: string }> = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ms-ca-'));
    const certs = ensureCertificates({ certDir: dir, hostnames: ['localhost'] });
    ca = certs.ca;
    server = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', body, type: req.headers['content-type'] });
        if (req.url === '/not-json') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
          return;
        }
        res
          .writeHead(req.url === '/token' ? 400 : 200, {
            'content-type': 'application/json',
            'x-ms-test': 'yes',
          })
          .end(JSON.stringify({ ok: true, path: req.url }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://localhost:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('trusts the extra CA for its own requests only: the global fetch still refuses the server', async () => {
    const res = await microsoftFetch(ca)(`${origin}/v1.0/me`, { headers: { authorization: 'Bearer t' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, path: '/v1.0/me' });
    // Response built from it as FetchHandler does (the SDK's middleware reads a global Response)
    const copy = new Response(await (await microsoftFetch(ca)(`${origin}/x`)).arrayBuffer(), {
      status: res.status,
      headers: res.headers,
    });
    expect(copy.headers.get('x-ms-test')).toBe('yes');

    await expect(fetch(`${origin}/v1.0/me`)).rejects.toThrow(/fetch failed/);
    await expect(microsoftFetch(undefined)(`${origin}/v1.0/me`)).rejects.toThrow(/fetch failed/);
    // verification stays on: another CA's certificate is refused
    const other = ensureCertificates({ certDir: path.join(dir, 'other'), hostnames: ['localhost'] }).ca;
    await expect(microsoftFetch(other)(`${origin}/v1.0/me`)).rejects.toThrow(/fetch failed/);
  });

  it("keeps the process's own extra CAs (NODE_EXTRA_CA_CERTS) next to MS_CA_FILE's", async () => {
    // a `ca` list replaces Node's default store for the connection: the file NODE_EXTRA_CA_CERTS names is re-added
    const other = ensureCertificates({ certDir: path.join(dir, 'other2'), hostnames: ['localhost'] }).ca;
    const bundle = path.join(dir, 'corporate.pem');
    fs.writeFileSync(bundle, ca);
    const res = await microsoftFetch(other, { NODE_EXTRA_CA_CERTS: bundle })(`${origin}/corp`);
    expect(res.status).toBe(200);
    await expect(microsoftFetch(other, {})(`${origin}/corp`)).rejects.toThrow(/fetch failed/);
  });

  it('parses the CA list once, not for every new TLS connection (each parse of ~300 roots blocks the loop ~0.1 s)', async () => {
    const fetchIt = microsoftFetch(ca);
    const contexts = jest.spyOn(tls, 'createSecureContext');
    try {
      for (let i = 0; i < 3; i += 1) {
        // `connection: close`: every request opens a new TLS connection
        const res = await fetchIt(`${origin}/again-${i}`, { headers: { connection: 'close' } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      expect(contexts).not.toHaveBeenCalled();
    } finally {
      contexts.mockRestore();
    }
  });

  it('is what msal-node sends its GET and POST requests through, with JSON answers and headers', async () => {
    const client = new MicrosoftNetworkClient(microsoftFetch(ca));
    const got = await client.sendGetRequestAsync<{ ok: boolean }>(`${origin}/meta`, {
      headers: { 'x-client-sku': 'test' },
    });
    expect(got).toEqual({
      status: 200,
      body: { ok: true, path: '/meta' },
      headers: expect.objectContaining({ 'x-ms-test': 'yes' }) as Record<string, string>,
    });
    const posted = await client.sendPostRequestAsync<{ ok: boolean }>(`${origin}/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=abc',
    });
    expect(posted.status).toBe(400); // MSAL reads the error document itself
    expect(seen.find((r) => r.url === '/token')).toEqual({
      method: 'POST',
      url: '/token',
      body: 'grant_type=authorization_code&code=abc',
      type: 'application/x-www-form-urlencoded',
    });
  });

  it("fails as msal's own client does: network_error when unreachable or untrusted, token_parsing_error on non-JSON", async () => {
    const untrusted = new MicrosoftNetworkClient(microsoftFetch(undefined));
    const err = await untrusted.sendGetRequestAsync(`${origin}/meta`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).errorCode).toBe('network_error');

    const trusted = new MicrosoftNetworkClient(microsoftFetch(ca));
    const bad = await trusted.sendGetRequestAsync(`${origin}/not-json`).catch((e: unknown) => e);
    expect((bad as AuthError).errorCode).toBe('token_parsing_error');
  });
});
