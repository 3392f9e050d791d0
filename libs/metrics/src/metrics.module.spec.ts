import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import request from 'supertest';
import { MetricsModule } from './metrics.module';
import { MetricsRegistry } from './metrics-registry';
import { MetricsTokenGuard } from './metrics-token.guard';

const TOKEN = 'a-metrics-token-0123456789abcdef';

async function app(token?: string): Promise<INestApplication> {
  // a provider of another module defines a metric through the (global) registry
  @Controller('thing')
  class ThingController {
    private readonly calls;
    constructor(registry: MetricsRegistry) {
      this.calls = registry.counter({ name: 'thing_calls_total', help: 'Calls of GET /thing.' });
    }
    @Get()
    get(): string {
      this.calls.inc();
      return 'ok';
    }
  }
  const moduleRef = await Test.createTestingModule({
    imports: [MetricsModule.forRoot({ token, defaultMetrics: false })],
    controllers: [ThingController],
  }).compile();
  const nest = moduleRef.createNestApplication({ logger: false });
  await nest.init();
  return nest;
}

describe('MetricsModule: GET /metrics', () => {
  let nest: INestApplication | undefined;
  afterEach(async () => {
    await nest?.close();
    nest = undefined;
  });

  it('without METRICS_TOKEN: open, Prometheus text with the metrics other providers defined', async () => {
    nest = await app();
    await request(nest.getHttpServer() as Server)
      .get('/thing')
      .expect(200);
    const res = await request(nest.getHttpServer() as Server)
      .get('/metrics')
      .expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('# TYPE email_core_thing_calls_total counter');
    expect(res.text).toContain('email_core_thing_calls_total 1');
  });

  it('with METRICS_TOKEN: 401 UNAUTHENTICATED without the bearer or with a wrong one, 200 with it', async () => {
    nest = await app(TOKEN);
    const server = nest.getHttpServer() as Server;
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN]) {
      const req = request(server).get('/metrics');
      const res = await (authorization ? req.set('Authorization', authorization) : req);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'UNAUTHENTICATED' });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(res.text).not.toContain('email_core_');
    }
    const ok = await request(server).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(ok.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});

describe('MetricsTokenGuard.matches', () => {
  const guard = new MetricsTokenGuard({ token: TOKEN });

  it('takes exactly `Bearer <token>` (scheme in any case, surrounding blanks)', () => {
    expect(guard.matches(`Bearer ${TOKEN}`)).toBe(true);
    expect(guard.matches(`bearer ${TOKEN}`)).toBe(true);
    expect(guard.matches(`Bearer  ${TOKEN} `)).toBe(true);
  });

  it('refuses anything else: missing, another token, a prefix of it, another scheme, two values', () => {
    expect(guard.matches(undefined)).toBe(false);
    expect(guard.matches('')).toBe(false);
    expect(guard.matches('Bearer')).toBe(false);
    expect(guard.matches(`Bearer ${TOKEN.slice(0, -1)}`)).toBe(false);
    expect(guard.matches(`Bearer ${TOKEN} extra`)).toBe(false);
    expect(guard.matches(`Basic ${TOKEN}`)).toBe(false);
    expect(guard.matches([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`])).toBe(false);
  });

  it('lets every request through when no token is configured', () => {
    expect(new MetricsTokenGuard({}).matches(undefined)).toBe(true);
  });
});
