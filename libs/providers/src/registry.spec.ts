import type { MailProvider, Mailbox } from './port';
import { ProviderRegistry, UnknownProviderError } from './registry';

const adapter = (name: string, mailbox = {} as Mailbox): MailProvider => ({
  name,
  watching: 'channels',
  mailbox: () => mailbox,
  watchOfUnlinked: () => mailbox.watch,
  vault: {
    seal: () => ({
      keyId: 'k1',
      accessTokenEnc: 'sealed',
      accessTokenExpiresAt: new Date(0),
      refreshTokenEnc: 'sealed',
    }),
    credentialFor: () => Promise.resolve('credential'),
    credentialFromSealed: () => Promise.resolve('credential'),
    forget: () => undefined,
  },
});

describe('ProviderRegistry', () => {
  it('fails the boot when a known provider has no adapter', () => {
    expect(() => new ProviderRegistry([])).toThrow(
      /no adapter is registered for mail provider\(s\): outlook/,
    );
    expect(() => new ProviderRegistry([adapter('outlook')], ['outlook', 'imap'])).toThrow(/imap/);
  });

  it('refuses two adapters for one provider', () => {
    expect(() => new ProviderRegistry([adapter('outlook'), adapter('outlook')])).toThrow(/two adapters/);
  });

  it("picks the adapter of the account's provider", () => {
    const outlookBox = {} as Mailbox;
    const imapBox = {} as Mailbox;
    const registry = new ProviderRegistry([adapter('outlook', outlookBox), adapter('imap', imapBox)], []);
    expect(registry.mailbox({ id: 'a', provider: 'outlook' })).toBe(outlookBox);
    expect(registry.mailbox({ id: 'a', provider: 'imap' })).toBe(imapBox);
    expect(registry.names().sort()).toEqual(['imap', 'outlook']);
    expect(() => registry.adapter('pop3')).toThrow(UnknownProviderError);
  });
});
