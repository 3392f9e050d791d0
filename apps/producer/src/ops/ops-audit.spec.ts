import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import {
  auditRoute,
  OPS_AUDIT_PREFIX,
  OpsAuditMiddleware,
  opsAuditLine,
  type OpsAuditRequest,
} from './ops-audit';

const SECRET_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.secret-access-token.signature';

/** a request/response pair as Express hands them to the middleware; `finish` emits what Express would */
function exchange(opts: {
  url: string;
  method?: string;
  user?: { id: string; email: string };
  operator?: boolean;
}) {
  const req = {
    method: opts.method ?? 'GET',
    originalUrl: opts.url,
    headers: { authorization: `Bearer ${SECRET_TOKEN}` },
  } as unknown as Request & OpsAuditRequest & { user?: { id: string; email: string } };
  const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: false });
  const answer = (status: number) => {
    if (opts.user) req.user = opts.user;
    if (opts.operator !== undefined && opts.user)
      req.opsActor = { userId: opts.user.id, operator: opts.operator };
    res.statusCode = status;
    res.writableFinished = true;
    res.emit('finish');
    res.emit('close');
  };
  return { req, res: res as unknown as Response & EventEmitter, answer };
}

describe('ops audit log', () => {
  let log: jest.SpyInstance<void, [message: unknown, ...rest: unknown[]]>;
  let warn: jest.SpyInstance<void, [message: unknown, ...rest: unknown[]]>;
  beforeEach(() => {
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const lines = (): string[] => [...log.mock.calls, ...warn.mock.calls].map((c) => String(c[0]));
  const parse = (line: string) =>
    JSON.parse(line.slice(OPS_AUDIT_PREFIX.length + 1)) as Record<string, unknown>;

  it('formats one line: the stable prefix, then who, route, when, status as JSON', () => {
    const line = opsAuditLine({
      at: '2026-12-04T17:00:00.000Z',
      userId: 'u-1',
      operator: true,
      method: 'POST',
      route: '/api/v1/ops/dead-letters/replay',
      status: 202,
      durationMs: 12,
      aborted: false,
    });
    expect(line).toBe(
      'ops-audit {"at":"2026-12-04T17:00:00.000Z","userId":"u-1","operator":true,"method":"POST",' +
        '"route":"/api/v1/ops/dead-letters/replay","status":202,"durationMs":12,"aborted":false}',
    );
  });

  it("logs an operator's 200 once, at log level, after the answer is sent, without the query or any header", () => {
    const next = jest.fn() as NextFunction;
    const { req, res, answer } = exchange({
      url: `/api/v1/ops/dead-letters?limit=5&access_token=${SECRET_TOKEN}`,
      user: { id: 'user-1', email: 'ops@example.com' },
      operator: true,
    });
    new OpsAuditMiddleware().use(req, res, next);
    expect(next).toHaveBeenCalledTimes(1);
    expect(lines()).toEqual([]); // nothing until the response finishes
    answer(200);
    expect(log).toHaveBeenCalledTimes(1);
    expect(warn).not.toHaveBeenCalled();
    const [line] = lines();
    expect(line.startsWith('ops-audit {')).toBe(true);
    expect(parse(line)).toEqual({
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      userId: 'user-1',
      operator: true,
      method: 'GET',
      route: '/api/v1/ops/dead-letters',
      status: 200,
      durationMs: expect.any(Number) as unknown,
      aborted: false,
    });
    expect(line).not.toContain(SECRET_TOKEN);
    expect(line).not.toContain('ops@example.com');
  });

  it('logs refusals at warn: 403 for a signed-in non-operator, 401 with no user', () => {
    const a = exchange({
      url: '/api/v1/ops/kafka',
      user: { id: 'user-2', email: 'x@example.com' },
      operator: false,
    });
    new OpsAuditMiddleware().use(a.req, a.res, jest.fn());
    a.answer(403);
    const b = exchange({ url: '/api/v1/ops/subscriptions', method: 'GET' });
    new OpsAuditMiddleware().use(b.req, b.res, jest.fn());
    b.answer(401);
    expect(log).not.toHaveBeenCalled();
    expect(lines().map(parse)).toEqual([
      expect.objectContaining({ userId: 'user-2', operator: false, route: '/api/v1/ops/kafka', status: 403 }),
      expect.objectContaining({
        userId: null,
        operator: null,
        route: '/api/v1/ops/subscriptions',
        status: 401,
      }),
    ]);
  });

  it('logs a client that hung up before the answer, marked aborted', () => {
    const { req, res } = exchange({ url: '/api/v1/ops/kafka' });
    new OpsAuditMiddleware().use(req, res, jest.fn());
    res.emit('close');
    expect(lines().map(parse)).toEqual([expect.objectContaining({ aborted: true })]);
  });

  it('stamps a line with when its request arrived, not when the answer finished', () => {
    jest.useFakeTimers({ now: Date.parse('2026-12-04T17:00:00.000Z') });
    try {
      const { req, res, answer } = exchange({ url: '/api/v1/ops/kafka' });
      new OpsAuditMiddleware().use(req, res, jest.fn());
      jest.setSystemTime(Date.parse('2026-12-04T17:00:02.500Z'));
      answer(200);
      expect(parse(lines()[0])).toEqual(expect.objectContaining({ at: '2026-12-04T17:00:00.000Z' }));
    } finally {
      jest.useRealTimers();
    }
  });

  it('bounds the route it logs', () => {
    expect(auditRoute('/api/v1/ops/kafka?x=1')).toBe('/api/v1/ops/kafka');
    expect(auditRoute(`/api/v1/ops/${'a'.repeat(500)}`)).toHaveLength(201);
  });
});
