import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { microsoftTrust } from './start-env';

describe('npm start: how the apps trust the Microsoft side (microsoftTrust)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-env-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('with a real Microsoft app sets neither MS_CA_FILE nor NODE_EXTRA_CA_CERTS, and makes no CA', () => {
    const env = { MS_CLIENT_ID: 'real-app-id', MS_CLIENT_SECRET: 'real-secret', PATH: '/bin' };
    const trust = microsoftTrust(env, path.join(dir, 'certs'));
    expect(trust.env).toEqual(env);
    expect(trust.env.MS_CA_FILE).toBeUndefined();
    expect(trust.env.NODE_EXTRA_CA_CERTS).toBeUndefined();
    expect(trust.certs).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'certs'))).toBe(false);
  });

  it("with a real Microsoft app leaves the user's own NODE_EXTRA_CA_CERTS as it was (no emulator CA in it)", () => {
    const corporate = path.join(dir, 'corporate.pem');
    fs.writeFileSync(corporate, '');
    const trust = microsoftTrust(
      { MS_CLIENT_ID: 'real', NODE_EXTRA_CA_CERTS: corporate },
      path.join(dir, 'c'),
    );
    expect(trust.env.NODE_EXTRA_CA_CERTS).toBe(corporate);
    expect(fs.readFileSync(corporate, 'utf8')).toBe('');
    expect(trust.env.MS_CA_FILE).toBeUndefined();
  });

  it('with the emulator trusts its CA through MS_CA_FILE only, never NODE_EXTRA_CA_CERTS', () => {
    const certDir = path.join(dir, 'certs');
    const trust = microsoftTrust({ PATH: '/bin', EMULATOR_HOSTNAMES: 'localhost,mail.test' }, certDir);
    expect(trust.env.MS_CA_FILE).toBe(path.join(certDir, 'ca.pem'));
    expect(trust.env.NODE_EXTRA_CA_CERTS).toBeUndefined();
    expect(trust.certs?.ca).toBe(fs.readFileSync(path.join(certDir, 'ca.pem'), 'utf8'));
    expect(trust.certs?.caPath).toBe(trust.env.MS_CA_FILE);
  });
});
