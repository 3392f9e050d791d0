import { adminRequestRefusal, type AdminRequest } from './admin-api.guard';

const request = (over: Partial<AdminRequest> & { headers?: AdminRequest['headers'] } = {}): AdminRequest => ({
  method: 'POST',
  remoteAddress: '127.0.0.1',
  ...over,
  headers: { host: 'localhost:8443', ...over.headers },
});
const json = { 'content-type': 'application/json', 'content-length': '2' };

describe('adminRequestRefusal', () => {
  it('lets a tool through: loopback, no Origin, a JSON write or a write without a body', () => {
    expect(adminRequestRefusal(request({ headers: json }))).toBeUndefined();
    expect(
      adminRequestRefusal(
        request({ headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': '2' } }),
      ),
    ).toBeUndefined();
    // POST /_emulator/reset from curl or the test helper
    expect(adminRequestRefusal(request())).toBeUndefined();
    expect(adminRequestRefusal(request({ headers: { 'content-length': '0' } }))).toBeUndefined();
    expect(adminRequestRefusal(request({ method: 'GET', remoteAddress: '::1' }))).toBeUndefined();
  });

  it("lets the emulator's own origin through", () => {
    expect(
      adminRequestRefusal(request({ headers: { ...json, origin: 'https://localhost:8443' } })),
    ).toBeUndefined();
    expect(
      adminRequestRefusal(
        request({ headers: { ...json, origin: 'https://LOCALHOST:8443', 'sec-fetch-site': 'same-origin' } }),
      ),
    ).toBeUndefined();
  });

  it('refuses any other origin, a null origin, and what the browser marks as cross-site, on reads and writes', () => {
    for (const origin of [
      'https://evil.example',
      'http://localhost:8443',
      'https://localhost:9999',
      'null',
    ]) {
      for (const method of ['POST', 'GET', 'DELETE']) {
        expect([
          origin,
          method,
          adminRequestRefusal(request({ method, headers: { ...json, origin } }))?.error,
        ]).toEqual([origin, method, 'admin_cross_origin']);
      }
    }
    for (const site of ['cross-site', 'same-site'])
      expect(adminRequestRefusal(request({ headers: { ...json, 'sec-fetch-site': site } }))).toMatchObject({
        status: 403,
        error: 'admin_cross_origin',
      });
  });

  it('refuses a write whose body is not JSON (the bodies a page can send without a preflight)', () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        expect(
          adminRequestRefusal(request({ method, headers: { 'content-type': type, 'content-length': '10' } })),
        ).toEqual({ status: 415, error: 'admin_json_required', message: expect.any(String) as unknown });
      }
    }
    // a body with no type at all, and a chunked one
    expect(adminRequestRefusal(request({ headers: { 'content-length': '10' } }))?.error).toBe(
      'admin_json_required',
    );
    expect(adminRequestRefusal(request({ headers: { 'transfer-encoding': 'chunked' } }))?.error).toBe(
      'admin_json_required',
    );
    // a type named on an empty body still has to be JSON
    expect(adminRequestRefusal(request({ headers: { 'content-type': 'text/plain' } }))?.error).toBe(
      'admin_json_required',
    );
  });

  it('refuses callers that are not on this machine first', () => {
    expect(adminRequestRefusal(request({ remoteAddress: '10.0.0.7', headers: json }))).toMatchObject({
      status: 403,
      error: 'admin_loopback_only',
    });
  });
});
