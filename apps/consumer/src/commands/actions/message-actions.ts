import { Inject, Injectable } from '@nestjs/common';
import {
  ProviderRefusedError,
  type MailboxActions,
  type ManyIdsAction,
  type ManyIdsResult,
} from '@email-core/providers';
import { COMMAND_SETTINGS, type CommandSettings } from '../commands.settings';
import {
  FOLDER_GONE,
  MESSAGE_GONE,
  type ActionOutcome,
  type BulkRequest,
  type IdFailure,
  type MirrorTouch,
} from './action-result';

/**
 * Mark read, flag, move and delete on up to 500 messages: one Graph request per id (`PATCH`, `POST move`,
 * `DELETE`), a few in flight at once, each id with its own outcome. A 404 fails that id with `MESSAGE_GONE`
 * (or, for a move whose destination folder has gone, every remaining id with `FOLDER_GONE`), except for a delete,
 * where a message already gone is what was asked (and what a redone delete finds); another 4xx fails it with
 * Graph's code. A transient error (throttled, 5xx, network, after the client's retries) stops the
 * command and is thrown: every one of these requests is safe to send again, so the retry redoes the whole command.
 * A provider that acts on many ids at once (the port's `applyMany`: IMAP, one UID command per folder) gets them in
 * one call, and its per-id results go through the same rules.
 */
@Injectable()
export class MessageActions {
  constructor(@Inject(COMMAND_SETTINGS) private readonly settings: CommandSettings) {}

  async run(graph: MailboxActions, request: BulkRequest, signal: AbortSignal): Promise<ActionOutcome> {
    const ids = [...new Set(request.messageIds)];
    const succeeded: string[] = [];
    const failures: IdFailure[] = [];
    let folderCheck: Promise<boolean> | undefined;
    let folderGone = false;
    /** where a moved message is now (its id may have changed with the move: IMAP's does) */
    let movedTo: string | undefined;
    /** where a deleted message is now when the delete moved it under a new id (IMAP: to Trash) */
    let deletedTo: string | undefined;
    let stop: Error | undefined;
    const halt = (reason: unknown) => {
      stop ??= reason instanceof Error ? reason : new Error(String(reason));
    };

    const apply = async (id: string): Promise<void> => {
      switch (request.action) {
        case 'markRead':
          return graph.setRead(id, request.isRead);
        case 'flag':
          return graph.setFlag(id, request.flagStatus);
        case 'move': {
          const moved = await graph.move(id, request.destinationFolderId);
          movedTo ??= moved.id;
          return;
        }
        case 'delete': {
          const now = await graph.delete(id);
          if (now) deletedTo ??= now.id;
          return;
        }
      }
    };
    // a move answers 404 for a missing destination as for a missing message: ask once which it is
    const destinationExists = (folder: string) =>
      (folderCheck ??= graph.folderId(folder).then(
        (id) => id !== null,
        () => true, // cannot tell: count it as the message's 404
      ));

    let next = 0;
    const worker = async () => {
      while (next < ids.length && stop === undefined && !folderGone) {
        if (signal.aborted) {
          halt(signal.reason);
          return;
        }
        const id = ids[next++];
        try {
          await apply(id);
          succeeded.push(id);
        } catch (err) {
          if (!(err instanceof ProviderRefusedError)) {
            halt(err);
            return;
          }
          await refused(id, err);
        }
      }
    };
    /** an id the provider refused: failed, or (a delete of a message already gone) done */
    const refused = async (id: string, err: ProviderRefusedError): Promise<void> => {
      if (err.status !== 404) {
        failures.push({ id, code: err.code || `HTTP_${err.status}`, message: err.message });
      } else if (request.action === 'delete') {
        succeeded.push(id); // gone already: what a delete asks for (and what a redone delete finds)
      } else if (request.action === 'move' && !(await destinationExists(request.destinationFolderId))) {
        folderGone = true;
      } else {
        failures.push({ id, code: MESSAGE_GONE, message: 'The message no longer exists in Outlook.' });
      }
    };

    if (graph.applyMany) {
      if (signal.aborted)
        throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      let results: ManyIdsResult[];
      try {
        results = await graph.applyMany(ids, manyIdsAction(request), signal);
      } catch (err) {
        // refused as a whole (a move's destination missing): every id refused alike
        if (!(err instanceof ProviderRefusedError)) throw err;
        results = ids.map((id) => ({ id, ok: false, error: err }));
      }
      for (const r of results) {
        if (!r.ok) {
          await refused(r.id, r.error);
          continue;
        }
        succeeded.push(r.id);
        if (request.action === 'move' && r.now) movedTo ??= r.now.id;
        if (request.action === 'delete' && r.now) deletedTo ??= r.now.id;
      }
    } else {
      const workers = Math.max(1, Math.min(this.settings.idConcurrency, ids.length));
      await Promise.all(Array.from({ length: workers }, worker));
    }
    if (stop !== undefined) throw stop;
    if (folderGone) {
      const tried = new Set([...succeeded, ...failures.map((f) => f.id)]);
      for (const id of ids) {
        if (!tried.has(id)) {
          failures.push({
            id,
            code: FOLDER_GONE,
            message: 'The destination folder no longer exists in Outlook.',
          });
        }
      }
    }
    return {
      total: ids.length,
      failures,
      touched: touched(request, succeeded, failures, movedTo, deletedTo),
    };
  }
}

/** The bulk request as the port's many-ids action. */
function manyIdsAction(request: BulkRequest): ManyIdsAction {
  switch (request.action) {
    case 'markRead':
      return { action: 'markRead', isRead: request.isRead };
    case 'flag':
      return { action: 'flag', flagStatus: request.flagStatus };
    case 'move':
      return { action: 'move', destinationId: request.destinationFolderId };
    case 'delete':
      return { action: 'delete' };
  }
}

/**
 * What the mirror round re-reads, named as Graph's own notifications would: an `updated` item runs the delta of
 * the folder the mirror holds the message in (so a PATCH or a move out of it lands); a `deleted` item does the
 * same for a message that is gone (its folder's delta drops it). A move adds one `created` item: every moved
 * message is in the same destination, and one look-up of where it is now (by the id the move answered, which a
 * provider may change with the move) names that folder for the round. So does a delete that moved messages to
 * Trash under new ids (IMAP): one `created` item with a deleted message's id there names Trash for the round, which
 * would otherwise find the copies only at the next reconciliation (Outlook's delete keeps the id: nothing added).
 */
function touched(
  request: BulkRequest,
  succeeded: string[],
  failures: IdFailure[],
  movedTo: string | undefined,
  deletedTo: string | undefined,
): MirrorTouch[] {
  const gone = failures.filter((f) => f.code === MESSAGE_GONE).map((f) => f.id);
  const items: MirrorTouch[] = gone.map((messageId) => ({ changeType: 'deleted', messageId }));
  const changeType: MirrorTouch['changeType'] = request.action === 'delete' ? 'deleted' : 'updated';
  items.push(...succeeded.map((messageId) => ({ changeType, messageId })));
  if (request.action === 'move' && succeeded.length > 0) {
    items.push({ changeType: 'created', messageId: movedTo ?? succeeded[0] });
  }
  if (request.action === 'delete' && deletedTo !== undefined) {
    items.push({ changeType: 'created', messageId: deletedTo });
  }
  return items;
}
