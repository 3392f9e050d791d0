import type { IncomingMessage, ServerResponse } from 'node:http';
import { SocketOrigins } from './socket-cors';

const origins = new SocketOrigins(['http://localhost:5173'], 'https://mail.example.org/');

function run(req: { method: string; origin?: string; host?: string }) {
  const headers: Record<string, string> = {};
  const res = {
    statusCode: 200,
    ended: false,
    setHeader: (k: string, v: string) => (headers[k.toLowerCase()] = v),
    end() {
      this.ended = true;
    },
  };
  const next = jest.fn();
  origins.middleware()(
    { method: req.method, headers: { origin: req.origin, host: req.host } } as unknown as IncomingMessage,
    res as unknown as ServerResponse,
    next,
  );
  return { headers, res, next };
}

describe('SocketOrigins', () => {
  it('allows configured origins, the public origin, same-origin pages and non-browser clients', () => {
    expect(origins.allows('http://localhost:5173', 'api:3000')).toBe(true);
    expect(origins.allows('https://mail.example.org', 'internal:3000')).toBe(true);
    expect(origins.allows('http://127.0.0.1:4000', '127.0.0.1:4000')).toBe(true);
    expect(origins.allows(undefined, 'api:3000')).toBe(true);
  });

  it('refuses other origins', () => {
    expect(origins.allows('https://evil.example', 'api:3000')).toBe(false);
    expect(origins.allows('null', 'api:3000')).toBe(false);
  });

  it('answers an allowed preflight itself', () => {
    const { headers, res, next } = run({ method: 'OPTIONS', origin: 'http://localhost:5173', host: 'api' });
    expect(res.statusCode).toBe(204);
    expect(res.ended).toBe(true);
    expect(next).not.toHaveBeenCalled();
    expect(headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(headers['access-control-allow-headers']).toContain('Authorization');
  });

  it('marks allowed requests and passes them on', () => {
    const { headers, next } = run({ method: 'GET', origin: 'http://localhost:5173', host: 'api' });
    expect(next).toHaveBeenCalledWith();
    expect(headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(headers['vary']).toBe('Origin');
  });

  it('adds no CORS headers for a foreign origin', () => {
    const { headers, next } = run({ method: 'GET', origin: 'https://evil.example', host: 'api' });
    expect(next).toHaveBeenCalledWith();
    expect(headers['access-control-allow-origin']).toBeUndefined();
  });
});
