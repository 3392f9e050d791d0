/**
 * Multi-select's pure parts (issue 23): the selection's shape and its edits, and the words of a batch's one status
 * line. No React here, so they are tested as functions (selection.spec.ts).
 */

/**
 * The list's ticked messages: some by id, or "all the list's filter selects" (resolved by the server, never by
 * loading every id) minus the ones unticked since.
 */
export type ListSelection =
  { all: false; ids: ReadonlySet<string> } | { all: true; excluded: ReadonlySet<string> };

export const NO_SELECTION: ListSelection = { all: false, ids: new Set() };

export const isTicked = (s: ListSelection, id: string): boolean =>
  s.all ? !s.excluded.has(id) : s.ids.has(id);

/** `s` with every id of `ids` ticked (`on`) or unticked; in "all" mode, unticking excludes */
export function tick(s: ListSelection, ids: readonly string[], on: boolean): ListSelection {
  if (s.all) {
    const excluded = new Set(s.excluded);
    for (const id of ids) {
      if (on) excluded.delete(id);
      else excluded.add(id);
    }
    return { all: true, excluded };
  }
  const next = new Set(s.ids);
  for (const id of ids) {
    if (on) next.add(id);
    else next.delete(id);
  }
  return { all: false, ids: next };
}

/** the ids of the loaded rows from `from` to `to`, both included, in either order; null when one is not loaded */
export function rangeOf(rows: ReadonlyArray<{ id: string }>, from: string, to: string): string[] | null {
  const a = rows.findIndex((r) => r.id === from);
  const b = rows.findIndex((r) => r.id === to);
  if (a < 0 || b < 0) return null;
  return rows.slice(Math.min(a, b), Math.max(a, b) + 1).map((r) => r.id);
}

/** what a batch does, in the words of its status line: while it runs, once done, and "could not …" */
export interface BatchWording {
  running: string;
  done: string;
  failed: string;
}

/** the part of a batch the status line reads */
export interface BatchState {
  status: 'queued' | 'sent' | 'done' | 'failed';
  messages: number;
  commands: number;
  counts: { queued: number; sent: number; done: number; failed: number };
  reason: string | null;
}

const n = (count: number) => count.toLocaleString('en-US');
const messagesText = (count: number) => `${n(count)} message${count === 1 ? '' : 's'}`;

/** The one status line of a batch, whatever its number of commands; `final` once it can be dismissed. */
export function batchStatusLine(
  wording: BatchWording,
  batch: BatchState | undefined,
  error?: string,
): { text: string; tone: '' | 'done' | 'error'; final: boolean } {
  if (error !== undefined) {
    return { text: `Could not ${wording.failed} the selection: ${error}`, tone: 'error', final: true };
  }
  if (!batch) return { text: `${wording.running}…`, tone: '', final: false };
  if (batch.status === 'done') {
    return { text: `${wording.done}: ${messagesText(batch.messages)}`, tone: 'done', final: true };
  }
  if (batch.status === 'failed') {
    const why = batch.reason ? `: ${batch.reason}` : '';
    return {
      text: `Could not ${wording.failed} every message (${n(batch.counts.failed)} of ${n(batch.commands)} parts failed)${why}`,
      tone: 'error',
      final: true,
    };
  }
  const finished = batch.counts.done + batch.counts.failed;
  const parts = batch.commands > 1 ? ` ${n(finished)} of ${n(batch.commands)} parts done` : '';
  return { text: `${wording.running} ${messagesText(batch.messages)}…${parts}`, tone: '', final: false };
}
