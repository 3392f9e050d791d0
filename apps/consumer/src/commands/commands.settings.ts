/** How the mail-command worker runs; `CommandsModule.forRoot(config, mirror, { settings })` sets it. */
export interface CommandSettings {
  /** mail-command partitions (so mailboxes) this process works on at once */
  concurrentPartitions: number;
  /** Graph requests of one bulk command in flight at once (the client caps a mailbox at 4 anyway) */
  idConcurrency: number;
  /** how long a delivery waits for a command another worker is still executing before it takes the retry path */
  lockWaitMs: number;
}

export const COMMAND_SETTINGS = Symbol('COMMAND_SETTINGS');
