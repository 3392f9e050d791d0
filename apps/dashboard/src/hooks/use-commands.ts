import { useCallback, useEffect, useRef } from 'react';
import { MAX_INLINE_ATTACHMENT_BYTES } from '@email-core/contracts/mail-actions';
import type { CommandStatus } from '@email-core/contracts/mail-commands';
import { RealtimeEvents } from '@email-core/contracts/realtime';
import { uploadInChunks } from '@/api/chunked-upload';
import { ApiError, api, unwrap, type Schemas } from '@/api/client';
import type { paths } from '@/api/schema';
import { useRealtimeEvent } from '@/hooks/use-realtime';

/** `POST /api/v1/commands`'s body, one of the seven actions (libs/contracts/src/mail-commands.ts). */
export type CommandBody = NonNullable<
  paths['/api/v1/commands']['post']['requestBody']
>['content']['application/json'];
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** a command as the mail view writes it: the hook adds the account and a fresh client id */
export type CommandRequest = DistributiveOmit<CommandBody, 'id' | 'accountId'>;
export type Command = Schemas['CommandDto'];

export type Upload = Schemas['UploadDto'];

/**
 * Uploads a file for a later send, reply or forward (`POST /uploads`: the raw bytes, streamed, never base64 in a
 * JSON command; a file over 3 MB in chunks through an upload session, `onProgress` told after each); the command
 * then names it by `uploadId`. Rejects with the API's ApiError (413 ATTACHMENT_TOO_LARGE, 429 RATE_LIMITED...).
 */
export function uploadAttachment(
  file: File,
  onProgress?: (sent: number, total: number) => void,
): Promise<Upload> {
  // larger files go in chunks through an upload session (up to 150 MB), with progress
  if (file.size > MAX_INLINE_ATTACHMENT_BYTES) return uploadInChunks(file, onProgress);
  return unwrap(
    api.POST('/api/v1/uploads', {
      params: { query: { name: file.name } },
      headers: { 'Content-Type': file.type || 'application/octet-stream' },
      // the file itself is the body: the browser streams it with its Content-Length
      body: file as unknown as string,
      bodySerializer: (body) => body,
    }),
  );
}

/** `command.status` as the socket delivers it: the contracts' type (type-only: no zod in the bundle) */
type CommandStatusEvent = CommandStatus;

const FINAL = new Set<Command['status']>(['done', 'failed']);
/** the socket usually answers within a second; polling is the fallback when it is down */
const POLL_FIRST_MS = 3_000;
const POLL_EVERY_MS = 2_000;
const GIVE_UP_MS = 120_000;

/** A v4 UUID from `crypto.getRandomValues` (`randomUUID` exists only in secure contexts; plain-http deployments too). */
export function newCommandId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

interface Waiter {
  settle(outcome: Command): void;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Submits mail commands and answers their outcome. Every command carries a client id, so a retried POST (after a
 * network failure) executes once. The outcome comes from the socket's `command.status` events, or from polling
 * `GET /commands/:id` when no event arrives (the socket is down or reconnecting).
 */
export function useCommands(accountId: string | undefined) {
  const waiters = useRef(new Map<string, Waiter>());

  useRealtimeEvent<CommandStatusEvent>(RealtimeEvents.commandStatus, (event) => {
    if (!FINAL.has(event.status)) return;
    const waiter = waiters.current.get(event.commandId);
    if (!waiter) return;
    const now = new Date().toISOString();
    waiter.settle({
      id: event.commandId,
      accountId: event.accountId,
      action: event.action,
      status: event.status,
      reasonCode: event.reasonCode ?? null,
      reason: event.reason ?? null,
      draftId: event.draftId ?? null,
      createdAt: now,
      updatedAt: event.at,
    });
  });

  useEffect(() => {
    const all = waiters.current;
    return () => {
      for (const w of all.values()) if (w.timer) clearTimeout(w.timer);
      all.clear();
    };
  }, []);

  /** Resolves with the command once it is `done` or `failed`; rejects when the API refuses it (an ApiError). */
  const run = useCallback(
    async (
      request: CommandRequest,
      opts: { onQueued?: (command: Command) => void } = {},
    ): Promise<Command> => {
      if (!accountId) throw new Error('no account');
      const id = newCommandId();
      const body = { ...request, id, accountId } as CommandBody;
      let queued: Command;
      try {
        queued = await unwrap(api.POST('/api/v1/commands', { body }));
      } catch (err) {
        if (err instanceof ApiError) throw err;
        // the network failed: the same id again is safe (the server answers the stored command)
        queued = await unwrap(api.POST('/api/v1/commands', { body }));
      }
      opts.onQueued?.(queued);
      if (FINAL.has(queued.status)) return queued;
      return new Promise<Command>((resolve) => {
        const started = Date.now();
        const waiter: Waiter = {
          timer: null,
          settle(outcome) {
            if (waiter.timer) clearTimeout(waiter.timer);
            waiters.current.delete(id);
            resolve(outcome);
          },
        };
        const poll = (delay: number) => {
          waiter.timer = setTimeout(() => {
            void unwrap(api.GET('/api/v1/commands/{id}', { params: { path: { id } } }))
              .then((command) => {
                if (!waiters.current.has(id)) return;
                if (FINAL.has(command.status)) waiter.settle(command);
                else if (Date.now() - started > GIVE_UP_MS)
                  waiter.settle({ ...command, reason: 'still running' });
                else poll(POLL_EVERY_MS);
              })
              .catch(() => {
                if (waiters.current.has(id)) poll(POLL_EVERY_MS * 2);
              });
          }, delay);
        };
        waiters.current.set(id, waiter);
        poll(POLL_FIRST_MS);
      });
    },
    [accountId],
  );

  return { run };
}
