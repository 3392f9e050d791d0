import { useLayoutEffect, useRef, type MutableRefObject } from 'react';

/**
 * A ref that always holds the last rendered `value`, for listeners registered once (window keys, socket events)
 * that must call the current render's handler. It is updated in a layout effect, in the commit itself: an event
 * handled as soon as the page shows a change (j, then k at once) sees that render's value, where a passive effect
 * could still hold the one before.
 */
export function useLatest<T>(value: T): MutableRefObject<T> {
  const latest = useRef(value);
  useLayoutEffect(() => {
    latest.current = value;
  });
  return latest;
}
