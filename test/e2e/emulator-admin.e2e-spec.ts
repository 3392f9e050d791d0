import { startEmulator, type RunningEmulator } from '@email-core/testing';

interface Problem {
  error: string;
  message: string;
}

/**
 * Issue 16, defect 12: the emulator's admin API (`/_emulator/*`) reshapes every mailbox, so a web page the developer
 * happens to visit must not reach it. Against the real emulator process: a write from another origin, and a write
 * whose body is not JSON (the bodies a page sends without a CORS preflight), are refused and change nothing; the
 * tools' own calls (JSON, or no body at all) still work.
 */
describe('outlook emulator: the admin API refuses cross-site requests', () => {
  let emu: RunningEmulator;
  const address = 'admin-guard@contoso.example';

  const raw = async (method: string, path: string, headers: Record<string, string>, body?: string) => {
    const res = await fetch(`${emu.origin}${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Problem | undefined };
  };
  const addresses = async () =>
    (await emu.admin<Array<{ address: string }>>('GET', '/_emulator/mailboxes')).map((m) => m.address);

  beforeAll(async () => {
    emu = await startEmulator();
  }, 60_000);
  afterAll(() => emu?.stop());

  it('refuses an admin write from another origin (403 admin_cross_origin) and changes nothing', async () => {
    await emu.admin('POST', '/_emulator/mailboxes', { address, displayName: 'Guarded' });
    expect(await addresses()).toContain(address);

    // what a page on https://evil.example can send: a bodiless POST, a form, a JSON-looking text body
    const attempts: Array<[string, Record<string, string>, string | undefined]> = [
      ['/_emulator/reset', { origin: 'https://evil.example' }, undefined],
      [
        '/_emulator/reset',
        { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
        'a=1',
      ],
      [
        '/_emulator/mailboxes',
        { origin: 'https://evil.example', 'content-type': 'application/json' },
        JSON.stringify({ address: 'planted@evil.example' }),
      ],
      // an opaque origin (a sandboxed frame, a file:// page)
      ['/_emulator/reset', { origin: 'null' }, undefined],
    ];
    for (const [path, headers, body] of attempts) {
      const res = await raw('POST', path, headers, body);
      expect([path, headers.origin, res.status, res.body?.error]).toEqual([
        path,
        headers.origin,
        403,
        'admin_cross_origin',
      ]);
    }
    const addressesAfter = await addresses();
    expect(addressesAfter).toContain(address);
    expect(addressesAfter).not.toContain('planted@evil.example');
    // reads too: another origin gets nothing back
    expect((await raw('GET', '/_emulator/mailboxes', { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('refuses an admin write whose body is not JSON (415 admin_json_required)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await raw(
        'POST',
        '/_emulator/mailboxes',
        { 'content-type': type },
        JSON.stringify({ address: 'plain@contoso.example' }),
      );
      expect([type, res.status, res.body?.error]).toEqual([type, 415, 'admin_json_required']);
    }
    const faults = await raw(
      'POST',
      '/_emulator/faults',
      { 'content-type': 'text/plain' },
      '{"latencyMs":5000}',
    );
    expect(faults.status).toBe(415);
    expect(await addresses()).not.toContain('plain@contoso.example');
    expect(await emu.admin<{ latencyMs: number }>('GET', '/_emulator/faults')).toMatchObject({
      latencyMs: 0,
    });
  });

  it("takes the tools' own calls: JSON writes, bodiless writes, and the emulator's own origin", async () => {
    const own = await raw(
      'POST',
      '/_emulator/mailboxes',
      { origin: emu.origin, 'content-type': 'application/json; charset=utf-8' },
      JSON.stringify({ address: 'own-origin@contoso.example' }),
    );
    expect(own.status).toBe(201);
    expect(await addresses()).toEqual(expect.arrayContaining([address, 'own-origin@contoso.example']));
    // the test helper's bodiless write: POST /_emulator/reset with no Content-Type
    await emu.admin('POST', '/_emulator/reset');
    expect(await addresses()).toEqual([]);
  });
});
