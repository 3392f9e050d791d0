import { useCallback, useSyncExternalStore } from 'react';

export type DesktopPermission = NotificationPermission | 'unsupported';

const listeners = new Set<() => void>();

function currentPermission(): DesktopPermission {
  return typeof window !== 'undefined' && 'Notification' in window ? Notification.permission : 'unsupported';
}

/**
 * Desktop notifications on new mail, with the user's permission. The permission prompt is only ever shown from a
 * user gesture (`request()` from a click handler), never on load.
 */
export function useDesktopNotifications(): { permission: DesktopPermission; request: () => Promise<void> } {
  const permission = useSyncExternalStore((listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, currentPermission);
  const request = useCallback(async () => {
    if (currentPermission() === 'unsupported') return;
    if (currentPermission() === 'default') await Notification.requestPermission();
    // the answer (or a change made in the browser's settings meanwhile) shows at once
    for (const l of listeners) l();
  }, []);
  return { permission, request };
}

/** Shows a desktop notification when the user granted permission; does nothing otherwise. */
export function notifyDesktop(
  title: string,
  options: { body?: string; tag?: string; onClick?: () => void },
): void {
  if (currentPermission() !== 'granted') return;
  try {
    const n = new Notification(title, { body: options.body, tag: options.tag });
    n.onclick = () => {
      window.focus();
      options.onClick?.();
      n.close();
    };
  } catch {
    // some platforms (Android Chrome) only allow notifications from a service worker: the toast still shows
  }
}
