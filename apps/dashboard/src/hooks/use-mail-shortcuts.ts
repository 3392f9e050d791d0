import { useEffect } from 'react';
import { useLatest } from '@/hooks/use-latest';

/** The mail view's keys (docs/dashboard.md lists them). `#` is Shift+3 on most layouts: matched by the character. */
export type ShortcutKey = 'j' | 'k' | '/' | 'u' | 'e' | '#' | 's' | 'v' | 'r' | 'a' | 'f' | 'c' | 'Escape';

const KEYS = new Set<string>(['j', 'k', '/', 'u', 'e', '#', 's', 'v', 'r', 'a', 'f', 'c', 'Escape']);

/** true while the user is typing: shortcuts must not fire in a field */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}

/**
 * Single-key shortcuts on the window, Gmail style. They are ignored while a field has the focus, with Ctrl, Alt or
 * Meta held (browser and OS shortcuts), and on repeated key-down events. The handlers may change every render.
 */
export function useMailShortcuts(handlers: Partial<Record<ShortcutKey, () => void>>, enabled = true): void {
  const latest = useLatest(handlers);
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || e.defaultPrevented) return;
      if (!KEYS.has(e.key) || isTyping(e.target)) return;
      const handler = latest.current[e.key as ShortcutKey];
      if (!handler) return;
      e.preventDefault();
      handler();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled]);
}
