import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@email-core/testing';
import { WebhookClient } from './webhook-client';

describe('WebhookClient', () => {
  const client = new WebhookClient();
  let server: http.Server;
  let base: string;
  const seen: { method?: string; url?: string; type?: string; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
        if (req.url === '/slow') setTimeout(() => res.end('late'), 1000);
        else if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
        else res.writeHead(202, { 'content-type': 'text/plain' }).end('thanks');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('POSTs the body with its content type and returns status, body and latency', async () => {
    const res = await client.post({
      url: `${base}/ok?a=1`,
      contentType: 'application/json',
      body: '{"value":[]}',
      timeoutMs: 2000,
    });
    expect(res).toMatchObject({ status: 202, body: 'thanks', timedOut: false });
    expect(res.latencyMs).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      url: '/ok?a=1',
      type: 'application/json',
      body: '{"value":[]}',
    });
  });

  it('does not follow redirects', async () => {
    const res = await client.post({
      url: `${base}/redirect`,
      contentType: 'text/plain',
      body: '',
      timeoutMs: 2000,
    });
    expect(res.status).toBe(302);
  });

  it('gives up at the timeout and says so', async () => {
    const res = await client.post({
      url: `${base}/slow`,
      contentType: 'text/plain',
      body: '',
      timeoutMs: 150,
    });
    expect(res).toMatchObject({ status: 0, timedOut: true });
    expect(res.latencyMs).toBeGreaterThanOrEqual(140);
    expect(res.latencyMs).toBeLessThan(900);
  });

  it('reports a refused connection as no status, not as a timeout', async () => {
    const res = await client.post({
      url: `http://127.0.0.1:${await freePort()}/`,
      contentType: 'text/plain',
      body: '',
      timeoutMs: 2000,
    });
    expect(res).toMatchObject({ status: 0, timedOut: false });
    expect(res.error).toMatch(/ECONNREFUSED/);
  });

  it('stops when the caller aborts', async () => {
    const cancel = new AbortController();
    const pending = client.post({
      url: `${base}/slow`,
      contentType: 'text/plain',
      body: '',
      timeoutMs: 5000,
      signal: cancel.signal,
    });
    setTimeout(() => cancel.abort(), 50);
    await expect(pending).resolves.toMatchObject({ status: 0, timedOut: false });
  });
});
