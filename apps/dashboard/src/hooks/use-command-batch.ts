import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CommandBatchStatus } from '@email-core/contracts/command-batches';
import { RealtimeEvents } from '@email-core/contracts/realtime';
import { ApiError, api, errorMessage, unwrap, type Schemas } from '@/api/client';
import type { paths } from '@/api/schema';
import { newCommandId } from '@/hooks/use-commands';
import { patchCachedMessages, refreshMail } from '@/hooks/use-mail';
import { useRealtimeEvent } from '@/hooks/use-realtime';
import type { BatchWording } from '@/lib/selection';

/** `POST /api/v1/commands/batches`'s body (libs/contracts/src/command-batches.ts) */
type BatchBody = NonNullable<
  paths['/api/v1/commands/batches']['post']['requestBody']
>['content']['application/json'];
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** a batch as the selection bar writes it: the hook adds the account and a fresh client id */
export type BatchRequest = DistributiveOmit<BatchBody, 'id' | 'accountId'>;
export type CommandBatch = Schemas['CommandBatchDto'];
export type MessageSelection = NonNullable<Extract<BatchBody, { action: 'delete' }>['selection']>;

export type { BatchWording };

/** What the selection bar shows of the batch it submitted last: one status for the whole selection. */
export interface BatchProgress {
  request: BatchRequest;
  wording: BatchWording;
  /** absent until the API accepted it */
  batch?: CommandBatch;
  /** the API refused it, or the network failed */
  error?: string;
}

const FINAL = new Set<CommandBatch['status']>(['done', 'failed']);
const POLL_FIRST_MS = 3_000;
const POLL_EVERY_MS = 2_000;
const finished = (b: CommandBatch) => b.counts.done + b.counts.failed;

/**
 * Submits one batch (a bulk action on a selection of any size: `POST /commands/batches`) and follows its combined
 * status: the socket's `command.batch.status` events, or polling `GET /commands/batches/:id` when none comes. The
 * loaded rows it names are edited at once (read state, flag, or gone from the list); the server's state is
 * fetched again when the batch ends.
 */
export function useCommandBatch(accountId: string | undefined) {
  const client = useQueryClient();
  const [progress, setProgress] = useState<BatchProgress | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const current = useRef<string | null>(null);

  const update = useCallback(
    (batch: CommandBatch) => {
      if (batch.id !== current.current) return;
      setProgress((p) => {
        // events can arrive out of order: keep the one that has more commands finished
        if (!p || (p.batch && finished(p.batch) > finished(batch))) return p;
        return { ...p, batch };
      });
      if (FINAL.has(batch.status)) {
        if (timer.current) clearTimeout(timer.current);
        timer.current = null;
        if (accountId) refreshMail(client, accountId);
      }
    },
    [accountId, client],
  );

  useRealtimeEvent<CommandBatchStatus>(RealtimeEvents.commandBatchStatus, (e) =>
    update({
      id: e.batchId,
      accountId: e.accountId,
      action: e.action,
      status: e.status,
      messages: e.messages,
      commands: e.commands,
      counts: e.counts,
      reasonCode: e.reasonCode ?? null,
      reason: e.reason ?? null,
      createdAt: e.at,
      updatedAt: e.at,
    }),
  );

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const submit = useCallback(
    async (request: BatchRequest, wording: BatchWording, optimistic: { ids: string[]; remove: boolean }) => {
      if (!accountId) return;
      const id = newCommandId();
      current.current = id;
      if (timer.current) clearTimeout(timer.current);
      setProgress({ request, wording });
      if (optimistic.ids.length) {
        patchCachedMessages(
          client,
          accountId,
          optimistic.ids,
          optimistic.remove
            ? 'remove'
            : request.action === 'markRead'
              ? { isRead: request.isRead }
              : request.action === 'flag'
                ? { flagStatus: request.flagStatus }
                : 'remove',
        );
      }
      const body = { ...request, id, accountId } as BatchBody;
      let batch: CommandBatch;
      try {
        try {
          batch = await unwrap(api.POST('/api/v1/commands/batches', { body }));
        } catch (err) {
          if (err instanceof ApiError) throw err;
          // the network failed: the same id again is safe (the server answers the stored batch)
          batch = await unwrap(api.POST('/api/v1/commands/batches', { body }));
        }
      } catch (err) {
        refreshMail(client, accountId);
        setProgress({ request, wording, error: errorMessage(err) });
        return;
      }
      update(batch);
      const poll = (delay: number) => {
        timer.current = setTimeout(() => {
          void unwrap(api.GET('/api/v1/commands/batches/{id}', { params: { path: { id } } }))
            .then((b) => {
              update(b);
              if (!FINAL.has(b.status) && current.current === id) poll(POLL_EVERY_MS);
            })
            .catch(() => current.current === id && poll(POLL_EVERY_MS * 2));
        }, delay);
      };
      if (!FINAL.has(batch.status)) poll(POLL_FIRST_MS);
    },
    [accountId, client, update],
  );

  const dismiss = useCallback(() => {
    current.current = null;
    if (timer.current) clearTimeout(timer.current);
    setProgress(null);
  }, []);

  return { progress, submit, dismiss };
}
