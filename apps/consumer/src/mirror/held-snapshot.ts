/**
 * Where the mirror held a round's poked messages when the round began (its first `foldersOf`, read under the
 * mailbox lock), so a page's look-up before its write (`placePage`) need not read the same rows again: one
 * statement fewer for a round whose page lists what was poked, the common live round.
 *
 * It answers only while it is exact. Every write of a message's row happens under the mailbox lock (rounds, syncs,
 * and actions through rounds), so within the round only the round's own pages move or remove rows: an id answers
 * once, for the first page that lists or removes it (`take` spends it; that page is about to write it, and any
 * later page reads the rows again). A folder refresh (which deletes a vanished folder's rows) or a rebuild (whose
 * end sweeps rows no page listed) changes rows no page names: `drop` ends the snapshot for the rest of the round.
 */
export class HeldSnapshot {
  /** ids the snapshot still answers for (held or not) */
  private readonly exact: Set<string>;

  constructor(
    /** the poked ids the mirror held, with their folder (`foldersOf`'s answer) */
    private readonly held: ReadonlyMap<string, string>,
    /** every id that read asked about: one it asked about and did not get is one the mirror did not hold */
    asked: Iterable<string>,
  ) {
    this.exact = new Set(asked);
  }

  /**
   * Where the mirror holds `ids`, when the snapshot answers for every one of them; undefined otherwise (the caller
   * reads the rows). Either way `ids` are spent: the caller writes them next.
   */
  take(ids: readonly string[]): Map<string, string> | undefined {
    const answers = ids.length > 0 && ids.every((id) => this.exact.has(id));
    const found = new Map<string, string>();
    for (const id of ids) {
      if (answers) {
        const folder = this.held.get(id);
        if (folder !== undefined) found.set(id, folder);
      }
      this.exact.delete(id);
    }
    return answers ? found : undefined;
  }

  /** nothing answers any more: rows changed that no page names */
  drop(): void {
    this.exact.clear();
  }
}
