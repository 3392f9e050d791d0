import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import type { ImapFlow } from 'imapflow';
import { TokenCipher } from '@email-core/crypto';
import { MailAccountTokensRepository } from '@email-core/database';
import { ProviderMetrics } from '@email-core/metrics';
import type { ConnectionWatch, Mailbox, MailboxActions, MailProvider } from '../port';
import { ImapActions, type SentCopyMode } from './imap-actions';
import { ImapAttachments } from './imap-attachments';
import { openImapSession } from './imap-connection';
import { IMAP_WATCH, ImapMailbox } from './imap-mailbox';
import { mailRequestCounters, type MailRequestCounters } from './imap-request-metrics';
import type { HostPolicy, ImapAccountSettings } from './imap-settings';
import { ImapCredentialVault } from './imap-vault';

export interface ImapProviderOptions {
  /** the sealed settings of each account */
  vault: ImapCredentialVault;
  /** how users' servers may be reached (IMAP_ALLOW_PRIVATE_HOSTS, IMAP_CA_FILE) */
  policy: HostPolicy;
  /** an account's settings (default: opened from the vault); tests may give their own */
  settingsFor?: (accountId: string) => Promise<ImapAccountSettings>;
  /** who files sent mail in Sent (see `SentCopyMode`) */
  sentCopy?: SentCopyMode;
  /** ENABLE QRESYNC where servers have it (default true; false: read as from a server without it, for tests) */
  qresync?: boolean;
  /** where IMAP connection attempts, operations and SMTP sends are counted (the app's metrics); none: not counted */
  requests?: MailRequestCounters;
}

/**
 * The IMAP/SMTP adapter, registered as provider 'imap': each account's mailbox is its IMAP server (read through
 * CONDSTORE/QRESYNC, acted on through IMAP and SMTP), reached with the settings sealed in the account row and
 * only where the host policy allows.
 */
export class ImapProvider implements MailProvider {
  static readonly providerName = 'imap';
  readonly name = ImapProvider.providerName;
  /** IDLE connections of our own, held by the consumer's IMAP watcher: no channels at the server */
  readonly watching = 'connection';
  readonly vault: ImapCredentialVault;
  private readonly settingsFor: (accountId: string) => Promise<ImapAccountSettings>;

  constructor(private readonly options: ImapProviderOptions) {
    this.vault = options.vault;
    this.settingsFor = options.settingsFor ?? ((accountId) => options.vault.settingsFor(accountId));
  }

  mailbox(accountId: string): Mailbox {
    const { policy, sentCopy, requests } = this.options;
    const settings = () => this.settingsFor(accountId);
    const sessionOptions = requests ? { requests: requests.imap } : {};
    const open = async (): Promise<ImapFlow> =>
      openImapSession((await settings()).imap, policy, sessionOptions);
    // the actions need the settings (the SMTP server, the From): built per call, once they are read
    const actions = lazyActions(
      async () =>
        new ImapActions({
          open,
          account: await settings(),
          policy,
          ...(sentCopy ? { sentCopy } : {}),
          ...(requests ? { smtpRequests: requests.smtp } : {}),
        }),
    );
    return new ImapMailbox({
      accountId,
      settings,
      policy,
      actions,
      attachments: new ImapAttachments(open),
      ...(this.options.qresync === undefined ? {} : { qresync: this.options.qresync }),
      ...sessionOptions,
    });
  }

  /** Nothing is kept at the server for a watch: nothing to close for an unlinked account. */
  watchOfUnlinked(): ConnectionWatch {
    return IMAP_WATCH;
  }
}

/** `MailboxActions` whose implementation is built when a call comes. */
function lazyActions(build: () => Promise<ImapActions>): MailboxActions {
  const use = async <T>(act: (actions: ImapActions) => Promise<T>): Promise<T> => act(await build());
  return {
    setRead: (id, isRead) => use((a) => a.setRead(id, isRead)),
    setFlag: (id, flagStatus) => use((a) => a.setFlag(id, flagStatus)),
    move: (id, destinationId) => use((a) => a.move(id, destinationId)),
    delete: (id) => use((a) => a.delete(id)),
    applyMany: (ids, action, signal) => use((a) => a.applyMany(ids, action, signal)),
    sendMail: (mail) => use((a) => a.sendMail(mail)),
    reply: (id, opts) => use((a) => a.reply(id, opts)),
    forward: (id, opts) => use((a) => a.forward(id, opts)),
    createReply: (id, opts) => use((a) => a.createReply(id, opts)),
    createForward: (id, opts) => use((a) => a.createForward(id, opts)),
    addAttachment: (draftId, attachment) => use((a) => a.addAttachment(draftId, attachment)),
    sendDraft: (draftId) => use((a) => a.sendDraft(draftId)),
    saveDraft: (draft, opts) => use((a) => a.saveDraft(draft, opts)),
    discardDraft: (draftId) => use((a) => a.discardDraft(draftId)),
    folderId: (idOrWellKnownName) => use((a) => a.folderId(idOrWellKnownName)),
    newestMessageIds: (folder, count) => use((a) => a.newestMessageIds(folder, count)),
  };
}

/**
 * The Nest provider of the IMAP adapter: its vault over the sealed token columns (TokenCipher from GraphLibModule,
 * MailAccountTokensRepository from DatabaseModule), the host policy read from the injected `configToken`, and its
 * requests counted in the app's `ProviderMetrics` when the app has metrics (as GraphLibModule does for Graph).
 */
export function imapProvider<C>(
  configToken: InjectionToken,
  policyOf: (config: C) => HostPolicy,
): FactoryProvider<ImapProvider> {
  return {
    provide: ImapProvider,
    inject: [
      TokenCipher,
      MailAccountTokensRepository,
      configToken,
      { token: ProviderMetrics, optional: true },
    ],
    useFactory: (
      cipher: TokenCipher,
      repo: MailAccountTokensRepository,
      config: C,
      metrics: ProviderMetrics | undefined,
    ) =>
      new ImapProvider({
        vault: new ImapCredentialVault(cipher, repo),
        policy: policyOf(config),
        ...(metrics ? { requests: mailRequestCounters(metrics) } : {}),
      }),
  };
}
