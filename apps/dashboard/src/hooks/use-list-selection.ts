import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { isTicked, NO_SELECTION, rangeOf, tick, type ListSelection } from '@/lib/selection';

export type { ListSelection };

export interface CheckModifiers {
  /** shift: tick (or untick) every loaded row from the last one ticked to this one */
  range: boolean;
}

/**
 * Multi-select over a list of loaded rows: tick one (a checkbox, Ctrl/Cmd-click, `x`), a range (Shift), every loaded
 * row, or every message of the list's filter. Cleared whenever `resetKey` (the folder and filters) changes.
 */
export function useListSelection(rows: ReadonlyArray<{ id: string }>, resetKey: string) {
  const [selection, setSelection] = useState<ListSelection>(NO_SELECTION);
  /** the row ticked or unticked last, where a Shift range starts */
  const anchor = useRef<string | null>(null);

  useEffect(() => {
    setSelection(NO_SELECTION);
    anchor.current = null;
  }, [resetKey]);

  const isChecked = useCallback((id: string) => isTicked(selection, id), [selection]);

  const setMany = useCallback((ids: string[], on: boolean) => setSelection((s) => tick(s, ids, on)), []);

  const check = useCallback(
    (id: string, { range: shift }: CheckModifiers) => {
      const on = !isChecked(id);
      const range = shift && anchor.current ? rangeOf(rows, anchor.current, id) : null;
      setMany(range ?? [id], on);
      anchor.current = id;
    },
    [rows, isChecked, setMany],
  );

  const checkAllLoaded = useCallback(
    (on: boolean) => {
      if (on) setSelection({ all: false, ids: new Set(rows.map((r) => r.id)) });
      else setSelection(NO_SELECTION);
    },
    [rows],
  );
  const checkAllInList = useCallback(() => setSelection({ all: true, excluded: new Set() }), []);
  const clear = useCallback(() => {
    setSelection(NO_SELECTION);
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
