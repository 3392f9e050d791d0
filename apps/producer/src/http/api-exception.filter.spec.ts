import {
  BadRequestException,
  HttpException,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
  type ArgumentsHost,
} from '@nestjs/common';
import { ApiExceptionFilter } from './api-exception.filter';
import { AppError } from './app-error';

function fakeHost(type = 'http') {
  const res = {
    headersSent: false,
    headers: {} as Record<string, string>,
    statusCode: 0,
    body: undefined as unknown,
    setHeader(name: string, value: string) {
      this.headers[name] = value;
    },
    status(code: number) {
      this.statusCode = code;
      return this;
    },
    json(body: unknown) {
      this.body = body;
      return this;
    },
  };
  const host = {
    getType: () => type,
    switchToHttp: () => ({ getResponse: () => res }),
  } as unknown as ArgumentsHost;
  return { host, res };
}

describe('ApiExceptionFilter', () => {
  const filter = new ApiExceptionFilter();
  const send = (exception: unknown) => {
    const { host, res } = fakeHost();
    filter.catch(exception, host);
    return res;
  };
  let logged: jest.SpyInstance;
  beforeEach(() => {
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => logged.mockRestore());

  it("answers an AppError with its code, message and details, at its kind's status", () => {
    const res = send(new AppError('EMAIL_TAKEN', 'conflict', 'taken', { details: { field: 'email' } }));
    expect(res.statusCode).toBe(409);
    expect(res.body).toEqual({ error: 'EMAIL_TAKEN', message: 'taken', details: { field: 'email' } });
    expect(res.headers).toEqual({});
    expect(logged).not.toHaveBeenCalled();
  });

  it.each([
    ['invalid', 400],
    ['unauthenticated', 401],
    ['forbidden', 403],
    ['not_found', 404],
    ['conflict', 409],
    ['rate_limited', 429],
    ['unavailable', 503],
    ['internal', 500],
  ] as const)('maps kind %s to %i', (kind, status) => {
    expect(send(new AppError('SOME_CODE', kind, 'x')).statusCode).toBe(status);
  });

  it('sends Retry-After in whole seconds, at least 1', () => {
    expect(
      send(new AppError('RATE_LIMITED', 'rate_limited', 'slow down', { retryAfterSeconds: 41.2 })).headers,
    ).toEqual({ 'Retry-After': '42' });
    expect(
      send(new AppError('RATE_LIMITED', 'rate_limited', 'slow down', { retryAfterSeconds: 0 })).headers,
    ).toEqual({
      'Retry-After': '1',
    });
  });

  it("passes an HttpException that already carries a code (JwtAuthGuard's) through", () => {
    const res = send(
      new UnauthorizedException({ error: 'UNAUTHENTICATED', message: 'an access token is required' }),
    );
    expect(res.statusCode).toBe(401);
    expect(res.body).toEqual({ error: 'UNAUTHENTICATED', message: 'an access token is required' });
  });

  it("gives Nest's own exceptions a code from their status", () => {
    expect(send(new NotFoundException('Cannot GET /nope')).body).toEqual({
      error: 'NOT_FOUND',
      message: 'Cannot GET /nope',
    });
    expect(send(new BadRequestException('Unexpected token in JSON')).body).toEqual({
      error: 'VALIDATION_FAILED',
      message: 'Unexpected token in JSON',
    });
    const tooLarge = send(new PayloadTooLargeException());
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.body).toEqual({ error: 'PAYLOAD_TOO_LARGE', message: 'Payload Too Large' });
    expect(send(new HttpException('teapot', 418)).body).toEqual({
      error: 'I_AM_A_TEAPOT',
      message: 'teapot',
    });
  });

  it("maps express's body-parser errors (not Nest exceptions) to 413 and 400 with codes", () => {
    const parserError = (status: number, type: string) =>
      Object.assign(new Error('request entity too large'), {
        status,
        statusCode: status,
        type,
        expose: true,
      });
    const tooLarge = send(parserError(413, 'entity.too.large'));
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.body).toEqual({ error: 'PAYLOAD_TOO_LARGE', message: 'the request body is too large' });
    const badJson = send(parserError(400, 'entity.parse.failed'));
    expect(badJson.statusCode).toBe(400);
    expect(badJson.body).toEqual({
      error: 'VALIDATION_FAILED',
      message: 'the request body is not valid JSON',
    });
    // an ordinary error with a status field is still a 500
    expect(send(Object.assign(new Error('boom'), { status: 400 })).statusCode).toBe(500);
  });

  it('answers a query made before the database has connected with 503 DATABASE_UNAVAILABLE, not a 500', () => {
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const notConnected = Object.assign(new Error('Driver not Connected'), { name: 'TypeORMError' });
    const res = send(notConnected);
    expect(res.statusCode).toBe(503);
    expect(res.headers['Retry-After']).toBe('1');
    expect(res.body).toEqual({
      error: 'DATABASE_UNAVAILABLE',
      message: 'the database is not reachable right now; try again',
    });
    expect(logged).not.toHaveBeenCalled();
    expect(warned).toHaveBeenCalledTimes(1);
    // another TypeORM failure is still a 500
    expect(
      send(Object.assign(new Error('Query runner already released'), { name: 'TypeORMError' })).statusCode,
    ).toBe(500);
    warned.mockRestore();
  });

  it("leaves a custom body without a code alone (the health check's report)", () => {
    const report = { status: 'error', info: {}, error: { kafka: { status: 'down' } }, details: {} };
    const res = send(new ServiceUnavailableException(report));
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe(report);
  });

  it('answers anything else with 500 INTERNAL_ERROR, logging the stack and sending none of it', () => {
    const res = send(new Error('connection to 10.0.0.7 refused, password=hunter2'));
    expect(res.statusCode).toBe(500);
    expect(res.body).toEqual({ error: 'INTERNAL_ERROR', message: 'internal error' });
    expect(logged).toHaveBeenCalledTimes(1);
  });

  it('does not write to a response that was already sent', () => {
    const { host, res } = fakeHost();
    res.headersSent = true;
    filter.catch(new AppError('X', 'invalid', 'x'), host);
    expect(res.statusCode).toBe(0);
  });

  it('refuses codes that are not UPPER_SNAKE_CASE', () => {
    expect(() => new AppError('emailTaken', 'conflict', 'x')).toThrow(/UPPER_SNAKE_CASE/);
  });
});
