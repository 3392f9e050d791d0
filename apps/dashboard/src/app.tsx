import { useEffect, useState } from 'react';

interface DependencyStatus {
  status: 'up' | 'down';
  message?: string;
}

interface HealthBody {
  status: 'ok' | 'error';
  details: Record<string, DependencyStatus>;
}

/** The shell: until sign-in and the mail view land, it shows what the API reports about its dependencies. */
export function App() {
  const [health, setHealth] = useState<HealthBody | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    const load = () =>
      fetch('/health')
        .then((r) => r.json() as Promise<HealthBody>)
        .then((body) => {
          if (!cancelled) {
            setHealth(body);
            setError(null);
          }
        })
        .catch((e: unknown) => !cancelled && setError(e instanceof Error ? e.message : String(e)));
    void load();
    const timer = setInterval(() => void load(), 5000);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, []);

  return (
    <main>
      <h1>Email Core</h1>
      <p>Outlook mailboxes mirrored into PostgreSQL, kept live from Microsoft Graph.</p>
      <section aria-label="System status">
        <h2>System status</h2>
        {error && <p role="alert">API unreachable: {error}</p>}
        {!health && !error && <p>Checking…</p>}
        {health && (
          <ul>
            {Object.entries(health.details).map(([name, dep]) => (
              <li key={name} data-status={dep.status}>
                <strong>{name}</strong>: {dep.status}
                {dep.message ? ` (${dep.message})` : ''}
              </li>
            ))}
          </ul>
        )}
      </section>
      <p className="note">Sign-in, linking Outlook and the mail view arrive with the next issues.</p>
    </main>
  );
}
