import {
  ProviderRefusedError,
  ProviderUnavailableError,
  type MailboxActions,
  type OutgoingAttachment,
} from '@email-core/providers';

/** Graph's own error answers as the Outlook adapter hands them on (the port's errors), for scripting a fake. */
export const graphErrors = {
  notFound: () =>
    new ProviderRefusedError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'),
  accessDenied: () => new ProviderRefusedError(403, 'ErrorAccessDenied', 'Access is denied.'),
  throttled: () =>
    new ProviderUnavailableError(429, 'ApplicationThrottled', 'over the MailboxConcurrency limit', 30000),
  unavailable: () => new ProviderUnavailableError(503, 'ServiceUnavailable', 'try later'),
  network: () => new ProviderUnavailableError(0, 'TypeError', 'fetch failed'),
  gatewayTimeout: () => new ProviderUnavailableError(504, 'GatewayTimeout', 'gateway timeout'),
};

type Method = keyof MailboxActions;

/**
 * A mailbox's Graph in memory: every call is recorded as `method:target`, and a call can be made to fail by
 * `failOn('move', id, error)` (each time) or `failOnce(...)`. Messages in `gone` answer 404 to every call,
 * folders in `missingFolders` answer 404 as move destinations.
 */
export class FakeMailGraph implements MailboxActions {
  readonly calls: string[] = [];
  readonly gone = new Set<string>();
  readonly missingFolders = new Set<string>();
  /** ids a move gives its messages (a provider whose ids change with a move: IMAP); by default a move keeps it */
  readonly idsAfterMove = new Map<string, string>();
  /** ids a delete gives its messages in Trash (IMAP's delete moves to Trash); by default a delete answers null */
  readonly idsInTrash = new Map<string, string>();
  readonly attachments = new Map<string, OutgoingAttachment[]>();
  readonly sent: unknown[] = [];
  sentItems: string[] = ['sent-1'];
  private readonly failures = new Map<string, { error: () => Error; once: boolean }>();
  private drafts = 0;

  failOn(method: Method, target: string, error: () => Error, once = false): this {
    this.failures.set(`${method}:${target}`, { error, once });
    return this;
  }

  private call(method: Method, target: string): void {
    this.calls.push(`${method}:${target}`);
    const key = `${method}:${target}`;
    const scripted = this.failures.get(key);
    if (scripted) {
      if (scripted.once) this.failures.delete(key);
      throw scripted.error();
    }
    if (this.gone.has(target)) throw graphErrors.notFound();
  }

  setRead(id: string): Promise<void> {
    return this.run(() => this.call('setRead', id));
  }
  setFlag(id: string): Promise<void> {
    return this.run(() => this.call('setFlag', id));
  }
  move(id: string, destinationId: string): Promise<{ id: string; parentFolderId: string | null }> {
    return this.run(() => {
      this.call('move', id);
      if (this.missingFolders.has(destinationId)) throw graphErrors.notFound();
      return { id: this.idsAfterMove.get(id) ?? id, parentFolderId: destinationId };
    });
  }
  delete(id: string): Promise<{ id: string; parentFolderId: string | null } | null> {
    return this.run(() => {
      this.call('delete', id);
      this.gone.add(id);
      const inTrash = this.idsInTrash.get(id);
      return inTrash === undefined ? null : { id: inTrash, parentFolderId: 'deleteditems' };
    });
  }
  sendMail(mail: Parameters<MailboxActions['sendMail']>[0]): Promise<void> {
    return this.run(() => {
      this.call('sendMail', 'me');
      this.sent.push(mail);
    });
  }
  reply(id: string): Promise<void> {
    return this.run(() => this.call('reply', id));
  }
  forward(id: string): Promise<void> {
    return this.run(() => this.call('forward', id));
  }
  createReply(id: string): Promise<string> {
    return this.run(() => {
      this.call('createReply', id);
      return `draft-${++this.drafts}`;
    });
  }
  createForward(id: string): Promise<string> {
    return this.run(() => {
      this.call('createForward', id);
      return `draft-${++this.drafts}`;
    });
  }
  addAttachment(draftId: string, attachment: OutgoingAttachment): Promise<void> {
    return this.run(() => {
      this.call('addAttachment', draftId);
      this.attachments.set(draftId, [...(this.attachments.get(draftId) ?? []), attachment]);
    });
  }
  sendDraft(draftId: string): Promise<void> {
    return this.run(() => this.call('sendDraft', draftId));
  }
  saveDraft(_draft: unknown, opts: { replaceId?: string }): Promise<string> {
    return this.run(() => {
      this.call('saveDraft', opts.replaceId ?? 'new');
      return opts.replaceId ?? `draft-${++this.drafts}`;
    });
  }
  discardDraft(draftId: string): Promise<void> {
    return this.run(() => this.call('discardDraft', draftId));
  }
  folderId(folder: string): Promise<string | null> {
    return this.run(() => {
      this.call('folderId', folder);
      return this.missingFolders.has(folder) ? null : folder;
    });
  }
  newestMessageIds(folder: string): Promise<string[]> {
    return this.run(() => {
      this.call('newestMessageIds', folder);
      return this.sentItems.slice(0, 1);
    });
  }

  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
