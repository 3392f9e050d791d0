import express from 'express';
import type { Server } from 'node:http';
import request from 'supertest';
import { MetricsRegistry, parseExposition, sumOf } from '@email-core/metrics';
import { httpMetrics, UNMATCHED_ROUTE } from './http-metrics';
import { ProducerMetrics } from './producer-metrics';

const DURATION = 'email_core_http_request_duration_seconds_count';

function metrics() {
  const registry = new MetricsRegistry({ defaultMetrics: false });
  const producer = new ProducerMetrics(registry);
  return { registry, producer, samples: async () => parseExposition(await registry.metrics()) };
}

describe('ProducerMetrics', () => {
  it('query cache: hit, miss and error exist from the start and count each lookup', async () => {
    const m = metrics();
    let samples = await m.samples();
    for (const result of ['hit', 'miss', 'error']) {
      expect(samples).toContainEqual({
        name: 'email_core_query_cache_requests_total',
        labels: { result },
        value: 0,
      });
    }
    m.producer.queryCache('hit');
    m.producer.queryCache('hit');
    m.producer.queryCache('miss');
    samples = await m.samples();
    expect(sumOf(samples, 'email_core_query_cache_requests_total', { result: 'hit' })).toBe(2);
    expect(sumOf(samples, 'email_core_query_cache_requests_total', { result: 'miss' })).toBe(1);
    expect(sumOf(samples, 'email_core_query_cache_requests_total', { result: 'error' })).toBe(0);
  });

  it('socket connections: read from the counting function at each scrape (0 before the gateway starts)', async () => {
    const m = metrics();
    expect(sumOf(await m.samples(), 'email_core_socket_connections')).toBe(0);
    let open = 3;
    m.producer.countSocketsWith(() => open);
    expect(sumOf(await m.samples(), 'email_core_socket_connections')).toBe(3);
    open = 1;
    expect(sumOf(await m.samples(), 'email_core_socket_connections')).toBe(1);
  });

  it("request durations: a method outside the API's is `other`, the status code is the label", async () => {
    const m = metrics();
    m.producer.observeRequest('get', '/api/v1/accounts', 200, 0.01);
    m.producer.observeRequest('PROPFIND', UNMATCHED_ROUTE, 404, 0.001);
    const samples = await m.samples();
    expect(sumOf(samples, DURATION, { method: 'GET', route: '/api/v1/accounts', status_code: '200' })).toBe(
      1,
    );
    expect(sumOf(samples, DURATION, { method: 'other', route: 'unmatched', status_code: '404' })).toBe(1);
  });
});

describe('httpMetrics (the producer’s first middleware)', () => {
  /** an Express 5 app as Nest builds one: routes registered with their full pattern, a 404 fallback */
  function app() {
    const m = metrics();
    const web = express();
    const timing = httpMetrics(m.producer, { exactRoutes: ['/api/v1/graph/notifications'] });
    web.use(timing);
    web.get('/api/v1/accounts/:accountId/messages', (_req, res) => {
      res.json({ items: [] });
    });
    web.post('/api/v1/accounts/:accountId/refuse', (_req, res) => {
      res.status(401).json({ error: 'UNAUTHENTICATED' });
    });
    const router = express.Router();
    router.get('/things/:id', (_req, res) => {
      res.send('ok');
    });
    web.use('/mounted', router);
    web.use((_req, res) => {
      res.status(404).json({ error: 'NOT_FOUND' });
    });
    const server: Server = web.listen(0);
    return { ...m, server };
  }

  it('labels requests with the route pattern, never the URL: ids, query strings and unknown paths add no series', async () => {
    const { server, samples } = app();
    try {
      for (const id of ['a1', 'b2', 'c3']) {
        await request(server).get(`/api/v1/accounts/${id}/messages?folderId=${id}`).expect(200);
      }
      await request(server).post('/api/v1/accounts/a1/refuse').expect(401);
      await request(server).get('/mounted/things/42').expect(200);
      for (const path of ['/nope', '/assets/app-123.js', '/api/v1/accounts/a1/unknown']) {
        await request(server).get(path).expect(404);
      }
      const s = await samples();
      expect(
        sumOf(s, DURATION, {
          method: 'GET',
          route: '/api/v1/accounts/:accountId/messages',
          status_code: '200',
        }),
      ).toBe(3);
      expect(
        sumOf(s, DURATION, {
          method: 'POST',
          route: '/api/v1/accounts/:accountId/refuse',
          status_code: '401',
        }),
      ).toBe(1);
      expect(sumOf(s, DURATION, { route: '/mounted/things/:id' })).toBe(1);
      expect(sumOf(s, DURATION, { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(3);
      const routes = new Set(s.filter((x) => x.name === DURATION).map((x) => x.labels.route));
      expect([...routes].sort()).toEqual([
        '/api/v1/accounts/:accountId/messages',
        '/api/v1/accounts/:accountId/refuse',
        '/mounted/things/:id',
        'unmatched',
      ]);
      for (const x of s) expect(JSON.stringify(x.labels)).not.toMatch(/a1|b2|c3|42|nope|app-123/);
    } finally {
      server.close();
    }
  });

  it('a path answered outside the router (the webhook fast lane) is labelled by its own path when listed', async () => {
    const m = metrics();
    const timing = httpMetrics(m.producer, { exactRoutes: ['/api/v1/graph/notifications'] });
    const answer = (url: string, status: number) => {
      const listeners: Array<() => void> = [];
      const res = { statusCode: status, once: (_e: 'finish', l: () => void) => listeners.push(l) };
      timing({ method: 'POST', originalUrl: url }, res, () => undefined);
      for (const l of listeners) l();
    };
    answer('/api/v1/graph/notifications', 202);
    answer('/api/v1/graph/notifications?validationToken=x', 200);
    answer('/api/v1/graph/other', 404);
    const s = await m.samples();
    expect(sumOf(s, DURATION, { route: '/api/v1/graph/notifications', status_code: '202' })).toBe(1);
    expect(sumOf(s, DURATION, { route: '/api/v1/graph/notifications', status_code: '200' })).toBe(1);
    expect(sumOf(s, DURATION, { route: 'unmatched', status_code: '404' })).toBe(1);
  });

  it('the Graph webhook: its POSTs also timed by endpoint and status, its items counted by outcome', async () => {
    const m = metrics();
    let s = await m.samples();
    for (const outcome of ['accepted', 'dropped_unknown_subscription', 'dropped_client_state_mismatch']) {
      expect(s).toContainEqual({
        name: 'email_core_webhook_notifications_total',
        labels: { outcome },
        value: 0,
      });
    }
    m.producer.observeRequest('POST', '/api/v1/graph/notifications', 202, 0.004);
    m.producer.observeRequest('post', '/api/v1/graph/lifecycle', 202, 0.002);
    m.producer.observeRequest('POST', '/api/v1/graph/notifications', 503, 2);
    m.producer.observeRequest('GET', '/api/v1/accounts', 200, 0.01);
    m.producer.webhookNotifications('accepted', 100);
    m.producer.webhookNotifications('dropped_client_state_mismatch', 3);
    m.producer.webhookNotifications('dropped_unknown_subscription', 0);
    s = await m.samples();
    const webhook = 'email_core_webhook_request_duration_seconds_count';
    expect(sumOf(s, webhook)).toBe(3);
    expect(sumOf(s, webhook, { endpoint: 'notifications', status_code: '202' })).toBe(1);
    expect(sumOf(s, webhook, { endpoint: 'notifications', status_code: '503' })).toBe(1);
    expect(sumOf(s, webhook, { endpoint: 'lifecycle', status_code: '202' })).toBe(1);
    expect(
      sumOf(s, 'email_core_webhook_request_duration_seconds_bucket', {
        endpoint: 'notifications',
        le: '0.005',
      }),
    ).toBe(1);
    const items = 'email_core_webhook_notifications_total';
    expect(sumOf(s, items, { outcome: 'accepted' })).toBe(100);
    expect(sumOf(s, items, { outcome: 'dropped_client_state_mismatch' })).toBe(3);
    expect(sumOf(s, items, { outcome: 'dropped_unknown_subscription' })).toBe(0);
  });
});
