import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo } from 'react';
import { errorMessage } from '@/api/client';
import { useToast } from '@/components/ui/toast';
import { useCommands, type Command, type CommandRequest } from '@/hooks/use-commands';
import { patchCachedMessages, refreshMail, type MessageSummary } from '@/hooks/use-mail';

type Flag = MessageSummary['flagStatus'];

const VERB: Record<Command['action'], string> = {
  markRead: 'update the read state',
  flag: 'change the flag',
  move: 'move the message',
  delete: 'delete the message',
  send: 'send the mail',
  reply: 'send the reply',
  forward: 'forward the message',
  saveDraft: 'save the draft',
  discardDraft: 'discard the draft',
  sendDraft: 'send the draft',
};

/**
 * The mail view's actions: each one updates the cache at once (optimistic), submits the command, and when its
 * outcome arrives refetches the server's state (so a failure undoes the optimistic edit) and says so in a toast.
 */
export function useMailActions(accountId: string | undefined) {
  const client = useQueryClient();
  const toast = useToast();
  const { run } = useCommands(accountId);

  const execute = useCallback(
    async (
      request: CommandRequest,
      opts: { success?: string; onQueued?: (command: Command) => void } = {},
    ): Promise<Command | null> => {
      if (!accountId) return null;
      try {
        const outcome = await run(request, { onQueued: opts.onQueued });
        // the optimistic edit stands when the command is done (and the socket's mail.changed refetches anyway);
        // a failure is undone by asking the server, and a sent mail appears in Sent Items
        if (outcome.status !== 'done' || opts.success) refreshMail(client, accountId);
        if (outcome.status === 'failed') {
          toast.show({
            tone: 'error',
            title: `Could not ${VERB[request.action]}`,
            body: outcome.reason ?? outcome.reasonCode ?? undefined,
          });
        } else if (outcome.status === 'done' && opts.success) {
          toast.show({ tone: 'success', title: opts.success });
        }
        return outcome;
      } catch (err) {
        refreshMail(client, accountId);
        toast.show({ tone: 'error', title: `Could not ${VERB[request.action]}`, body: errorMessage(err) });
        return null;
      }
    },
    [accountId, client, run, toast],
  );

  return useMemo(
    () => ({
      markRead(ids: string[], isRead: boolean) {
        if (!accountId || !ids.length) return;
        patchCachedMessages(client, accountId, ids, { isRead });
        void execute({ action: 'markRead', messageIds: ids, isRead });
      },
      flag(ids: string[], flagStatus: Flag) {
        if (!accountId || !ids.length) return;
        patchCachedMessages(client, accountId, ids, { flagStatus });
        void execute({ action: 'flag', messageIds: ids, flagStatus });
      },
      move(ids: string[], destinationFolderId: string, label: string) {
        if (!accountId || !ids.length) return;
        patchCachedMessages(client, accountId, ids, { folderId: destinationFolderId });
        toast.show({ title: `Moved to ${label}` });
        void execute({ action: 'move', messageIds: ids, destinationFolderId });
      },
      /** permanent: Graph's DELETE (the message goes to Recoverable Items, out of every visible folder) */
      deleteForever(ids: string[]) {
        if (!accountId || !ids.length) return;
        patchCachedMessages(client, accountId, ids, 'remove');
        toast.show({ title: ids.length === 1 ? 'Deleted permanently' : `${ids.length} deleted permanently` });
        void execute({ action: 'delete', messageIds: ids });
      },
      /**
       * A new mail, a reply or a forward. Resolves once the API accepted it (rejects with its refusal, e.g.
       * ATTACHMENT_TOO_LARGE); the outcome follows as a toast ("Sent", or why not).
       */
      send(request: Extract<CommandRequest, { action: 'send' | 'reply' | 'forward' }>): Promise<Command> {
        return new Promise<Command>((resolve, reject) => {
          execute(request, { success: 'Sent', onQueued: resolve }).catch(reject);
        });
      },
    }),
    [accountId, client, execute, toast],
  );
}
