import { dashboardCsp, mailParserCsp, swaggerCsp } from './security-headers';

describe('dashboardCsp', () => {
  it('allows scripts only from itself, the socket on the public origin, and images for the mail reader', () => {
    const csp = dashboardCsp('http://127.0.0.1:3000');
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['object-src']).toEqual(["'none'"]);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
    expect(csp['connect-src']).toEqual(["'self'", 'ws://127.0.0.1:3000']);
    expect(csp['img-src']).toEqual(expect.arrayContaining(["'self'", 'data:', 'http:', 'https:']));
    expect(csp['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
    expect(csp['upgrade-insecure-requests']).toBeUndefined();
  });

  it('runs no inline handler and takes no <base> (mail is parsed in a document of its own; issue 16, defect 10)', () => {
    const csp = dashboardCsp('http://127.0.0.1:3000');
    expect(csp['script-src-attr']).toEqual(["'none'"]);
    expect(csp['base-uri']).toEqual(["'none'"]);
  });

  it('behind https: wss for the socket, and insecure requests upgraded', () => {
    const csp = dashboardCsp('https://mail.example.com');
    expect(csp['connect-src']).toEqual(["'self'", 'wss://mail.example.com']);
    expect(csp['upgrade-insecure-requests']).toEqual([]);
  });
});

describe('mailParserCsp', () => {
  it('lets nothing load or run in the mail parser page, and only the dashboard frame it', () => {
    const csp = mailParserCsp();
    expect(csp['default-src']).toEqual(["'none'"]);
    expect(csp['script-src']).toBeUndefined(); // falls back to default-src 'none'
    expect(csp['frame-ancestors']).toEqual(["'self'"]);
  });
});

describe('swaggerCsp', () => {
  it('lets the OpenAPI UI run its inline initializer, still from no other origin', () => {
    const csp = swaggerCsp();
    expect(csp['script-src']).toEqual(["'self'", "'unsafe-inline'"]);
    expect(csp['default-src']).toEqual(["'self'"]);
  });
});
