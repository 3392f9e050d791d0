import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

/**
 * The list's ticked messages: some by id, or "all the list's filter selects" (resolved by the server, never by
 * loading every id) minus the ones unticked since.
 */
export type ListSelection =
  { all: false; ids: ReadonlySet<string> } | { all: true; excluded: ReadonlySet<string> };

const NONE: ListSelection = { all: false, ids: new Set() };

export interface CheckModifiers {
  /** shift: tick (or untick) every loaded row from the last one ticked to this one */
  range: boolean;
}

/**
 * Multi-select over a list of loaded rows: tick one (a checkbox, Ctrl/Cmd-click, `x`), a range (Shift), every loaded
 * row, or every message of the list's filter. Cleared whenever `resetKey` (the folder and filters) changes.
 */
export function useListSelection(rows: ReadonlyArray<{ id: string }>, resetKey: string) {
  const [selection, setSelection] = useState<ListSelection>(NONE);
  /** the row ticked or unticked last, where a Shift range starts */
  const anchor = useRef<string | null>(null);

  useEffect(() => {
    setSelection(NONE);
    anchor.current = null;
  }, [resetKey]);

  const isChecked = useCallback(
    (id: string) => (selection.all ? !selection.excluded.has(id) : selection.ids.has(id)),
    [selection],
  );

  /** sets every id of `ids` ticked (`on`) or unticked */
  const setMany = useCallback((ids: string[], on: boolean) => {
    setSelection((s) => {
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
    });
  }, []);

  const check = useCallback(
    (id: string, { range }: CheckModifiers) => {
      const on = !isChecked(id);
      const from = range && anchor.current ? rows.findIndex((r) => r.id === anchor.current) : -1;
      const to = rows.findIndex((r) => r.id === id);
      if (from >= 0 && to >= 0) {
        const [a, b] = from < to ? [from, to] : [to, from];
        setMany(
          rows.slice(a, b + 1).map((r) => r.id),
          on,
        );
      } else {
        setMany([id], on);
      }
      anchor.current = id;
    },
    [rows, isChecked, setMany],
  );

  const checkAllLoaded = useCallback(
    (on: boolean) => {
      if (on) setSelection({ all: false, ids: new Set(rows.map((r) => r.id)) });
      else setSelection(NONE);
    },
    [rows],
  );
  const checkAllInList = useCallback(() => setSelection({ all: true, excluded: new Set() }), []);
  const clear = useCallback(() => {
    setSelection(NONE);
    anchor.current = null;
  }, []);

  /** the loaded rows that are ticked (what an action edits in the cache at once) */
  const loadedChecked = useMemo(
    () => rows.filter((r) => isChecked(r.id)).map((r) => r.id),
    [rows, isChecked],
  );
  const active = selection.all || selection.ids.size > 0;

  return { selection, active, isChecked, check, checkAllLoaded, checkAllInList, clear, loadedChecked };
}

export type ListSelectionState = ReturnType<typeof useListSelection>;
