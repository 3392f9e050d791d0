import { MessageOwners, type MessageOwner } from '../message-owner.repository';

/** MessageOwners for specs: every message belongs to `owner` (null: to none of the user's accounts); asks are kept. */
export class KnownOwners extends MessageOwners {
  readonly asked: Array<{ userId: string; messageId: string }> = [];

  constructor(private readonly owner: MessageOwner | null) {
    super();
  }

  accountOf(userId: string, messageId: string): Promise<MessageOwner | null> {
    this.asked.push({ userId, messageId });
    return Promise.resolve(this.owner);
  }
}
