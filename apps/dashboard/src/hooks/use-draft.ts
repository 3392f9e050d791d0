import { useCallback, useEffect, useRef, useState } from 'react';
import { newCommandId, useCommands, type Command } from '@/hooks/use-commands';

type Recipient = { address: string; name?: string };

/** What the compose form holds, as a draft saves it (the editor's HTML; the API sanitizes it). */
export interface DraftFields {
  subject: string;
  body: { contentType: 'html' | 'text'; content: string };
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
}

export interface UseDraftOptions {
  accountId: string | undefined;
  /** a draft reopened from Drafts: saves replace it, Send sends it */
  draftId?: string;
  /** a reply or forward: the draft is made as one (threading) */
  origin?: { messageId: string; kind: 'reply' | 'replyAll' | 'forward' };
  /** how long after the last change the draft is saved */
  delayMs?: number;
}

export type DraftState = 'unsaved' | 'saving' | 'saved' | 'failed';

/** after typing stops for this long, the draft is saved */
export const DRAFT_SAVE_DELAY_MS = 1500;

/**
 * Keeps the compose form saved as a draft at the provider (docs/mail-actions.md#drafts): `change(fields)` after
 * each edit saves it `delayMs` after the last one; `close()` saves what is not saved yet at once; `send()` saves the
 * last edit and sends the draft; `discard()` removes it. Every save names one `draftKey` (the compose window's),
 * so the server replaces the same draft each time; saves go one after the other (a later edit waits for the save
 * in flight, then only the newest fields are saved).
 */
export function useDraft({ accountId, draftId, origin, delayMs = DRAFT_SAVE_DELAY_MS }: UseDraftOptions) {
  const { run } = useCommands(accountId);
  const draftKey = useRef(newCommandId());
  const [state, setState] = useState<DraftState>(draftId ? 'saved' : 'unsaved');
  /** the fields not saved yet (null: nothing to save) */
  const pending = useRef<DraftFields | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  /** the saves so far, one after the other */
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  /** a draft exists at the provider (saved once, or reopened) */
  const exists = useRef(Boolean(draftId));
  /** sent or discarded: nothing is saved any more */
  const closed = useRef(false);

  const base = useCallback(
    () => ({ draftKey: draftKey.current, ...(draftId ? { draftId } : {}) }),
    [draftId],
  );

  /** saves the pending fields after the saves before (nothing when none are pending) */
  const saveNow = useCallback((): Promise<unknown> => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    chain.current = chain.current.then(async () => {
      const fields = pending.current;
      if (!fields || closed.current) return;
      pending.current = null;
      setState('saving');
      try {
        const done = await run({
          action: 'saveDraft',
          ...base(),
          ...(origin ? { origin } : {}),
          ...fields,
        });
        if (done.status === 'done') exists.current = true;
        setState(pending.current ? 'unsaved' : done.status === 'done' ? 'saved' : 'failed');
      } catch {
        setState('failed');
      }
    });
    return chain.current;
  }, [run, base, origin]);

  const change = useCallback(
    (fields: DraftFields) => {
      if (closed.current) return;
      pending.current = fields;
      setState('unsaved');
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(() => void saveNow(), delayMs);
    },
    [saveNow, delayMs],
  );

  /** the compose window closes: what is not saved yet is saved now (the request goes out before it unmounts) */
  const close = useCallback(() => {
    if (pending.current) void saveNow();
  }, [saveNow]);

  /** saves the last edit, then sends the draft as saved */
  const send = useCallback(
    async (fields: DraftFields): Promise<Command> => {
      pending.current = fields;
      await saveNow();
      closed.current = true;
      return run({ action: 'sendDraft', ...base() });
    },
    [saveNow, run, base],
  );

  /** removes the draft (nothing to do when none was saved) */
  const discard = useCallback(async (): Promise<void> => {
    if (timer.current) clearTimeout(timer.current);
    pending.current = null;
    await chain.current;
    closed.current = true;
    if (exists.current) await run({ action: 'discardDraft', ...base() });
  }, [run, base]);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  return { state, change, close, send, discard };
}
