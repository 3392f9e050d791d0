import type { GraphMailActionsClient } from '@email-core/graph';

/** What the command worker needs of Graph for one mailbox (libs/graph's `GraphMailActionsClient` has this shape). */
export type MailActionsGraph = Pick<
  GraphMailActionsClient,
  | 'setRead'
  | 'setFlag'
  | 'move'
  | 'delete'
  | 'sendMail'
  | 'reply'
  | 'forward'
  | 'createReply'
  | 'createForward'
  | 'addAttachment'
  | 'sendDraft'
  | 'folderId'
  | 'newestMessageIds'
>;

/** Builds the Graph client of one mail account (its tokens come from the token vault, never from Kafka). */
export interface MailActionsGraphFactory {
  forAccount(accountId: string): MailActionsGraph | Promise<MailActionsGraph>;
}

/** The injection token of the factory; `CommandsModule.forRoot(config, { graph })` can bind another (tests). */
export const MAIL_ACTIONS_GRAPH_FACTORY = Symbol('MAIL_ACTIONS_GRAPH_FACTORY');
