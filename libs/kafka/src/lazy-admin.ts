import type { Admin, Kafka } from 'kafkajs';

/**
 * One Kafka admin connection kept across calls: connected on first use, forgotten (and disconnected in the
 * background) after a failed connect or when a caller drops it after a failed request, made anew next time.
 */
export class LazyAdmin {
  private admin: Promise<Admin> | undefined;

  constructor(private readonly kafka: Kafka) {}

  /** the connected admin client */
  get(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    const current = this.admin;
    void current.catch(() => {
      if (this.admin === current) this.admin = undefined;
    });
    return current;
  }

  /** forgets the client after a failed request; the next `get` connects again */
  drop(): void {
    const admin = this.admin;
    this.admin = undefined;
    void admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  /** disconnects the client (at shutdown) */
  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }
}
