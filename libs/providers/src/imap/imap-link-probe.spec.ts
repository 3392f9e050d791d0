import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ProviderRefusedError, ProviderUnavailableError, ReauthRequiredError } from '../port';
import { HostLookupError, HostNotAllowedError } from './host-guard';
import {
  checkImapLogin,
  checkSmtpLogin,
  imapCheckError,
  MailLinkCheckError,
  smtpCheckError,
} from './imap-link-probe';
import type { MailServerSettings } from './imap-settings';

const server = (over: Partial<MailServerSettings> = {}): MailServerSettings => ({
  host: '127.0.0.1',
  port: 1,
  security: 'starttls',
  username: 'someone@example.test',
  password: 'secret-password-1',
  ...over,
});

/** a port on 127.0.0.1 nothing listens on (bound, then closed) */
async function closedPort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const codeOf = (err: unknown) => (err instanceof MailLinkCheckError ? [err.code, err.server] : err);

const label = (e: Error) => {
  const o = e as { code?: string; providerCode?: string };
  return `${e.name}(${o.code ?? o.providerCode ?? ''})`;
};

describe('imapCheckError', () => {
  const cases: Array<[Error, string]> = [
    [new ReauthRequiredError('refused', 'AUTHENTICATIONFAILED'), 'IMAP_AUTH_FAILED'],
    [new ReauthRequiredError('refused'), 'IMAP_AUTH_FAILED'],
    [new ReauthRequiredError('not allowed', 'HOST_NOT_ALLOWED'), 'HOST_NOT_ALLOWED'],
    [new ReauthRequiredError('cleartext', 'INSECURE_CONNECTION'), 'INSECURE_CONNECTION'],
    [new ProviderRefusedError(400, 'HOST_NOT_ALLOWED', 'x'), 'HOST_NOT_ALLOWED'],
    [new ProviderRefusedError(400, 'IMAP_NO', 'LOGINDISABLED'), 'IMAP_AUTH_FAILED'],
    [new ProviderUnavailableError(0, 'TlsFailed', 'x'), 'IMAP_TLS_FAILED'],
    [new ProviderUnavailableError(0, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'x'), 'IMAP_TLS_FAILED'],
    [new ProviderUnavailableError(0, 'ERR_TLS_CERT_ALTNAME_INVALID', 'x'), 'IMAP_TLS_FAILED'],
    [new ProviderUnavailableError(0, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'x'), 'IMAP_TLS_FAILED'],
    [new ProviderUnavailableError(0, 'ERR_SSL_WRONG_VERSION_NUMBER', 'x'), 'IMAP_TLS_FAILED'],
    [new ProviderUnavailableError(0, 'ECONNREFUSED', 'x'), 'IMAP_UNREACHABLE'],
    [new ProviderUnavailableError(0, 'ETIMEDOUT', 'x'), 'IMAP_UNREACHABLE'],
    [new ProviderUnavailableError(0, 'HOST_LOOKUP_FAILED', 'x'), 'IMAP_UNREACHABLE'],
    [new HostNotAllowedError('10.0.0.1', 'private'), 'HOST_NOT_ALLOWED'],
    [new HostLookupError('nowhere.test', 'ENOTFOUND'), 'IMAP_UNREACHABLE'],
    [Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'IMAP_UNREACHABLE'],
    [new Error('bare'), 'IMAP_UNREACHABLE'],
  ];
  it.each(cases.map(([err, code]) => [label(err), code, err] as const))('%s → %s', (_, code, err) => {
    expect(codeOf(imapCheckError(err))).toEqual([code, 'imap']);
  });
});

describe('smtpCheckError', () => {
  it.each([
    [{ code: 'EAUTH', responseCode: 535 }, 'SMTP_AUTH_FAILED'],
    [{ code: 'ENOAUTH' }, 'SMTP_AUTH_FAILED'],
    [{ code: 'ETLS' }, 'SMTP_TLS_FAILED'],
    [{ code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'SMTP_TLS_FAILED'],
    [{ code: 'ESOCKET', originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'SMTP_TLS_FAILED'],
    [{ code: 'ESOCKET', originalCode: 'ECONNREFUSED' }, 'SMTP_UNREACHABLE'],
    [{ code: 'ECONNECTION' }, 'SMTP_UNREACHABLE'],
    [{ code: 'ETIMEDOUT' }, 'SMTP_UNREACHABLE'],
    [{ code: 'EDNS' }, 'SMTP_UNREACHABLE'],
    [new HostNotAllowedError('localhost', 'resolves to a loopback address'), 'HOST_NOT_ALLOWED'],
    [new HostLookupError('nowhere.test', 'ENOTFOUND'), 'SMTP_UNREACHABLE'],
  ])('%j → %s', (err, code) => {
    const mapped = smtpCheckError(
      err instanceof Error ? err : Object.assign(new Error('Invalid login: 535 nope'), err),
    );
    expect(codeOf(mapped)).toEqual([code, 'smtp']);
    expect(mapped.message).not.toContain('nope');
  });
});

describe('the checks against real sockets (no mail server needed)', () => {
  const open = { allowPrivateHosts: true };
  const closed = { allowPrivateHosts: false };

  it('a closed port: IMAP_UNREACHABLE and SMTP_UNREACHABLE', async () => {
    const port = await closedPort();
    expect(codeOf(await checkImapLogin(server({ port }), open).catch((e: unknown) => e))).toEqual([
      'IMAP_UNREACHABLE',
      'imap',
    ]);
    expect(codeOf(await checkSmtpLogin(server({ port }), open).catch((e: unknown) => e))).toEqual([
      'SMTP_UNREACHABLE',
      'smtp',
    ]);
  });

  it.each(['127.0.0.1', '10.0.0.1', '169.254.169.254', 'localhost', '::1'])(
    'private host %s without the policy: HOST_NOT_ALLOWED before any connection',
    async (host) => {
      const imap = await checkImapLogin(server({ host, port: 993, security: 'tls' }), closed).catch(
        (e: unknown) => e,
      );
      expect(codeOf(imap)).toEqual(['HOST_NOT_ALLOWED', 'imap']);
      const smtp = await checkSmtpLogin(server({ host, port: 587 }), closed).catch((e: unknown) => e);
      expect(codeOf(smtp)).toEqual(['HOST_NOT_ALLOWED', 'smtp']);
    },
  );

  it('cleartext without the policy: INSECURE_CONNECTION', async () => {
    const smtp = await checkSmtpLogin(server({ host: '8.8.8.8', security: 'none' }), closed).catch(
      (e: unknown) => e,
    );
    expect(codeOf(smtp)).toEqual(['INSECURE_CONNECTION', 'smtp']);
    const imap = await checkImapLogin(server({ host: '8.8.8.8', security: 'none' }), closed).catch(
      (e: unknown) => e,
    );
    expect(codeOf(imap)).toEqual(['INSECURE_CONNECTION', 'imap']);
  });

  it('a server that is not TLS on a TLS port: IMAP_TLS_FAILED / SMTP_TLS_FAILED', async () => {
    // speaks plain text: the TLS handshake fails on the first bytes
    const sockets = new Set<Socket>();
    const plain = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.end('* OK plain text, not TLS\r\n');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const { port } = plain.address() as AddressInfo;
    try {
      const imap = await checkImapLogin(server({ port, security: 'tls' }), open).catch((e: unknown) => e);
      expect(codeOf(imap)).toEqual(['IMAP_TLS_FAILED', 'imap']);
      const smtp = await checkSmtpLogin(server({ port, security: 'tls' }), open).catch((e: unknown) => e);
      expect(codeOf(smtp)).toEqual(['SMTP_TLS_FAILED', 'smtp']);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });
});
