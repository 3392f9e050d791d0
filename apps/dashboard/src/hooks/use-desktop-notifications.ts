import { useCallback, useSyncExternalStore } from 'react';

export type DesktopPermission = NotificationPermission | 'unsupported';

const listeners = new Set<() => void>();
let watching = false;

function currentPermission(): DesktopPermission {
  return typeof window !== 'undefined' && 'Notification' in window ? Notification.permission : 'unsupported';
}

function changed(): void {
  for (const l of listeners) l();
}

/** Re-renders on a change made in the browser's own settings too (where the Permissions API reports it). */
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!watching && currentPermission() !== 'unsupported' && navigator.permissions) {
    watching = true;
    navigator.permissions.query({ name: 'notifications' }).then(
      (status) => status.addEventListener('change', changed),
      () => undefined, // not reported here: the permission still shows on the next render
    );
  }
  return () => listeners.delete(listener);
}

/**
 * Desktop notifications on new mail, with the user's permission. The permission prompt is only ever shown from a
 * user gesture (`request()` from a click handler), never on load.
 */
export function useDesktopNotifications(): { permission: DesktopPermission; request: () => Promise<void> } {
  const permission = useSyncExternalStore(subscribe, currentPermission);
  const request = useCallback(async () => {
    if (currentPermission() !== 'default') return;
    await Notification.requestPermission();
    changed();
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
