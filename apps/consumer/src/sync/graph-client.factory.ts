import type { DeltaPage, GraphFolder } from '@email-core/graph';
import { PermanentFailure } from '@email-core/kafka';

/** Where a folder's delta page starts: the folder itself (a full sync), or a stored nextLink/deltaLink. */
export type DeltaStart = { folderId: string } | { link: string };

/** What the sync needs of Microsoft Graph for one mailbox (libs/graph's `GraphMailClient` has this shape). */
export interface MailboxGraphClient {
  /** every folder of the mailbox, nested folders included, each with its parent's id */
  listFolderTree(): Promise<GraphFolder[]>;
  /**
   * One page of a folder's message delta. Throws `SyncStateNotFoundError` when a stored link expired and
   * `ReauthRequiredError` when the account's refresh token no longer works.
   */
  deltaPage(start: DeltaStart, pageSize?: number): Promise<DeltaPage>;
  /** the folder a message (by immutable id) is in now, or null when it no longer exists */
  getMessageFolderId(messageId: string): Promise<string | null>;
}

/** Builds the Graph client of one mail account (its tokens come from the token vault, never from Kafka). */
export interface GraphMailClientFactory {
  forAccount(accountId: string): MailboxGraphClient | Promise<MailboxGraphClient>;
}

/** The injection token of the factory; bind the real implementation with `SyncModule.forRoot(config, { graph })`. */
export const GRAPH_MAIL_CLIENT_FACTORY = Symbol('GRAPH_MAIL_CLIENT_FACTORY');

/** Stands in until the real factory is bound: every sync request is dead-lettered with a clear error. */
export class UnconfiguredGraphMailClientFactory implements GraphMailClientFactory {
  forAccount(): MailboxGraphClient {
    throw new PermanentFailure(
      'no Graph mail client factory is bound in the consumer',
      'GRAPH_NOT_CONFIGURED',
    );
  }
}
