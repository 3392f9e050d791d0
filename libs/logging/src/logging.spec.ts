import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { runWithCorrelation } from './correlation';
import { createHttpLogger } from './http-logger';
import { createLogger, pinoLevel, type LogFormat, type NestLogLevel } from './logger';
import { redactSecrets, redactUrl } from './redaction';
import { acceptRequestId, currentRequestId, runWithRequestId } from './request-id';

function capture(): {
  stream: DestinationStream;
  text: () => string;
  lines: () => Array<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const logger = (format: LogFormat, level: NestLogLevel = 'log') => {
  const out = capture();
  return { out, log: createLogger({ app: 'test-app', level, format, destination: out.stream }) };
};

describe('the logger', () => {
  it('writes one JSON object a line with format json: level name, ISO time, app, message', () => {
    const { out, log } = logger('json');
    log.info({ context: 'Ctx' }, 'hello');
    log.warn('careful');
    const [first, second] = out.lines();
    expect(first).toEqual(
      expect.objectContaining({ level: 'info', app: 'test-app', context: 'Ctx', msg: 'hello' }),
    );
    expect(new Date(String(first.time)).toISOString()).toBe(first.time);
    expect(second).toEqual(expect.objectContaining({ level: 'warn', msg: 'careful' }));
  });

  it('writes readable text with format pretty: level, context and message on one line, no JSON', () => {
    const { out, log } = logger('pretty');
    log.info({ context: 'OpsAudit' }, 'ops-audit {"route":"/x"}');
    const text = out.text();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[OpsAudit\] ops-audit \{"route":"\/x"\}\n$/);
  });

  it('writes a request id and a different correlation id both, the same id once, in pretty text', () => {
    const { out, log } = logger('pretty');
    runWithRequestId('req-1', () => runWithCorrelation('cid-2', () => log.info({ context: 'C' }, 'two ids')));
    runWithRequestId('id-3', () => runWithCorrelation('id-3', () => log.info('one id')));
    const [two, one] = out.text().split('\n');
    expect(two).toMatch(/INFO: \(req req-1\) \(cid cid-2\) \[C\] two ids$/);
    expect(one).toMatch(/INFO: \(req id-3\) one id$/);
  });

  it("maps LOG_LEVEL's names onto pino's and writes nothing below the level", () => {
    expect(
      ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'].map((l) => pinoLevel(l as NestLogLevel)),
    ).toEqual(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
    const { out, log } = logger('json', 'warn');
    log.info('not written');
    log.error('written');
    expect(out.lines().map((l) => l.msg)).toEqual(['written']);
  });

  it('adds the correlation id and the request id of the work running now (the mixin), and nothing outside it', () => {
    const { out, log } = logger('json');
    log.info('outside');
    runWithCorrelation('cid-1', () => log.info('in a Kafka handler'));
    runWithRequestId('req-1', () => runWithCorrelation('cid-2', () => log.info('in a webhook request')));
    const [outside, handler, request] = out.lines();
    expect(outside).not.toHaveProperty('correlationId');
    expect(outside).not.toHaveProperty('reqId');
    expect(handler).toEqual(expect.objectContaining({ correlationId: 'cid-1', msg: 'in a Kafka handler' }));
    expect(handler).not.toHaveProperty('reqId');
    expect(request).toEqual(expect.objectContaining({ correlationId: 'cid-2', reqId: 'req-1' }));
  });

  it('redacts secret fields at every depth a log call is likely to use, and keeps error codes', () => {
    const { out, log } = logger('json');
    log.info(
      {
        password: 'S1',
        imap: { host: 'imap.example.test', password: 'S2', auth: { pass: 'S3' } },
        tokens: { accessToken: 'S4', refresh_token: 'S5', id_token: 'S6' },
        headers: { authorization: 'Bearer S7', cookie: 'ec_refresh=S8' },
        subscription: { clientState: 'S9' },
        err: Object.assign(new Error('refused'), {
          code: 'ECONNREFUSED',
          request: { headers: { Authorization: 'Bearer S10' } },
        }),
      },
      'linked',
    );
    const text = out.text();
    for (let i = 1; i <= 10; i++) expect(text).not.toContain(`S${i}`);
    expect(text).toContain('imap.example.test');
    expect(out.lines()[0].err).toEqual(expect.objectContaining({ code: 'ECONNREFUSED' }));
  });
});

describe('redactSecrets', () => {
  it('finds secret fields in any case, in arrays, four levels down, without touching the object logged', () => {
    const logged = {
      Authorization: 'Bearer S1',
      accounts: [{ imap: { Password: 'S2' } }, { id: 'a-2' }],
      a: { b: { c: { token: 'S3' } } },
      nothing: null,
      when: new Date(0),
    };
    const before = JSON.stringify(logged);
    const out = redactSecrets(logged);
    expect(JSON.stringify(out)).not.toMatch(/S[123]/);
    expect(out.accounts[1]).toBe(logged.accounts[1]);
    expect(out.when).toBe(logged.when);
    expect(JSON.stringify(logged)).toBe(before);
    const clean = { a: { b: 1 }, list: [1, 2] };
    expect(redactSecrets(clean)).toBe(clean);
  });
});

describe('redactUrl', () => {
  it('replaces the values of secret query parameters and keeps the rest', () => {
    expect(redactUrl('/api/v1/accounts/outlook/callback?code=abc&state=def&session_state=x')).toBe(
      '/api/v1/accounts/outlook/callback?code=[Redacted]&state=[Redacted]&session_state=[Redacted]',
    );
    expect(redactUrl('/api/v1/messages?limit=50&folder=inbox')).toBe(
      '/api/v1/messages?limit=50&folder=inbox',
    );
    expect(
      redactUrl('https://x.test/cb?access_token=a&refresh_token=b&clientState=c&client_secret=d#id_token=e'),
    ).toBe(
      'https://x.test/cb?access_token=[Redacted]&refresh_token=[Redacted]&clientState=[Redacted]&client_secret=[Redacted]#[Redacted]',
    );
    expect(redactUrl('/health')).toBe('/health');
  });
});

describe('request ids', () => {
  it('accepts 1-128 of [A-Za-z0-9._:-] and nothing else', () => {
    expect(acceptRequestId('4f1c2d3e-aa.bb:cc_dd')).toBe('4f1c2d3e-aa.bb:cc_dd');
    expect(acceptRequestId(['first', 'second'])).toBe('first');
    for (const bad of ['', 'a'.repeat(129), 'with space', 'line\nbreak', '"quoted"', undefined, 42]) {
      expect(acceptRequestId(bad)).toBeUndefined();
    }
  });

  describe('on an HTTP server', () => {
    let server: Server;
    let base: string;
    let out: ReturnType<typeof capture>;
    let seenInHandler: Array<string | undefined>;

    beforeAll(async () => {
      out = capture();
      const root = createLogger({ app: 'test-app', level: 'debug', format: 'json', destination: out.stream });
      const middleware = createHttpLogger(root);
      seenInHandler = [];
      server = createServer((req, res) =>
        middleware(req, res, () => {
          seenInHandler.push(currentRequestId());
          // an app's own line while serving the request
          setImmediate(() => {
            root.info('handling');
            res.setHeader('set-cookie', 'ec_refresh=SETCOOKIE; HttpOnly');
            res.setHeader('location', '/done?code=LOCATIONCODE');
            res.statusCode = req.url?.startsWith('/boom') ? 500 : 200;
            res.end('ok');
          });
        }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const requestLines = () => out.lines().filter((l) => l.req !== undefined);

    it("takes the caller's valid X-Request-Id, returns it, and puts it on every line of the request", async () => {
      const res = await fetch(`${base}/api/x?code=QUERYCODE&limit=5`, {
        headers: {
          'x-request-id': 'client-id-1',
          authorization: 'Bearer BEARER',
          cookie: 'ec_refresh=COOKIE',
        },
      });
      expect(res.headers.get('x-request-id')).toBe('client-id-1');
      expect(seenInHandler.at(-1)).toBe('client-id-1');
      const handling = out
        .lines()
        .filter((l) => l.msg === 'handling')
        .at(-1);
      expect(handling?.reqId).toBe('client-id-1');
      // what the request starts (commands, Kafka messages) is correlated by the same id
      expect(handling?.correlationId).toBe('client-id-1');
      const line = requestLines().at(-1);
      expect(line).toEqual(expect.objectContaining({ level: 'info', reqId: 'client-id-1' }));
      expect(line?.msg).toMatch(/^GET \/api\/x\?code=\[Redacted\]&limit=5 200 \d+ms$/);
      for (const secret of ['QUERYCODE', 'BEARER', 'COOKIE', 'SETCOOKIE', 'LOCATIONCODE']) {
        expect(out.text()).not.toContain(secret);
      }
    });

    it('generates a UUID when the header is missing or not acceptable', async () => {
      for (const header of [undefined, 'x'.repeat(200), 'bad id']) {
        const res = await fetch(`${base}/y`, { headers: header ? { 'x-request-id': header } : {} });
        const id = res.headers.get('x-request-id');
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(requestLines().at(-1)?.reqId).toBe(id);
      }
    });

    it('logs a 5xx at error, /health and /metrics at debug', async () => {
      await fetch(`${base}/boom`);
      expect(requestLines().at(-1)).toEqual(expect.objectContaining({ level: 'error' }));
      // no made-up error (pino-http's "failed with status code 500", whose stack shows only pino-http)
      expect(requestLines().at(-1)).not.toHaveProperty('err');
      await fetch(`${base}/health/boom`);
      expect(requestLines().at(-1)).toEqual(expect.objectContaining({ level: 'debug' }));
      await fetch(`${base}/health/live`);
      expect(requestLines().at(-1)).toEqual(expect.objectContaining({ level: 'debug' }));
      await fetch(`${base}/metrics`);
      expect(requestLines().at(-1)).toEqual(expect.objectContaining({ level: 'debug' }));
    });
  });
});
