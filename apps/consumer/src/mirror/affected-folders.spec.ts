import type { ChangeType } from './coalesce';
import { resolveAffectedFolders, type AffectedFolderSources } from './affected-folders';

const round = (entries: Array<[string, ChangeType[]]>, unidentified = 0) => ({
  changes: new Map(entries.map(([id, types]) => [id, new Set(types)])),
  unidentified,
});

/** The mirror and Graph as plain maps; Graph look-ups are recorded. */
function sources(mirror: Record<string, string>, graph: Record<string, string | null>) {
  const lookedUp: string[] = [];
  const s: AffectedFolderSources = {
    mirrorFolders: (ids) =>
      Promise.resolve(new Map(ids.filter((id) => id in mirror).map((id) => [id, mirror[id]]))),
    providerFolderOf: (id) => {
      lookedUp.push(id);
      if (!(id in graph)) return Promise.reject(new Error(`unexpected look-up of ${id}`));
      return Promise.resolve(graph[id]);
    },
  };
  return { s, lookedUp };
}

const known = new Set(['inbox', 'archive', 'drafts']);
const options = { maxLookups: 10, concurrency: 2 };

describe('resolveAffectedFolders', () => {
  it("updates and deletes of messages we hold touch the mirror's folder only, without asking Graph", async () => {
    const { s, lookedUp } = sources({ m1: 'inbox', m2: 'archive' }, {});
    const r = await resolveAffectedFolders(
      round([
        ['m1', ['updated']],
        ['m2', ['deleted']],
      ]),
      known,
      s,
      options,
    );
    expect(r).toEqual({
      folders: new Set(['inbox', 'archive']),
      unknown: new Set(),
      everyFolder: false,
      lookups: 0,
    });
    expect(lookedUp).toEqual([]);
  });

  it('a move (deleted + created of one immutable id) touches its old folder and the one Graph has it in now', async () => {
    const { s, lookedUp } = sources({ m1: 'inbox' }, { m1: 'archive' });
    const r = await resolveAffectedFolders(round([['m1', ['created', 'deleted']]]), known, s, options);
    expect(r.folders).toEqual(new Set(['inbox', 'archive']));
    expect(lookedUp).toEqual(['m1']);
  });

  it('new mail and updates of messages we do not hold ask Graph; one that is gone again is skipped', async () => {
    const { s, lookedUp } = sources({}, { n1: 'inbox', n2: null, n3: 'drafts' });
    const r = await resolveAffectedFolders(
      round([
        ['n1', ['created']],
        ['n2', ['created', 'deleted']],
        ['n3', ['updated']],
        ['n4', ['deleted']], // never held, gone: nothing to do
      ]),
      known,
      s,
      options,
    );
    expect(r.folders).toEqual(new Set(['inbox', 'drafts']));
    expect(lookedUp.sort()).toEqual(['n1', 'n2', 'n3']);
    expect(r.lookups).toBe(3);
    expect(r.everyFolder).toBe(false);
  });

  it('a folder the mirror does not know yet is reported, so the tree is refreshed first', async () => {
    const { s } = sources({}, { n1: 'brand-new' });
    const r = await resolveAffectedFolders(round([['n1', ['created']]]), known, s, options);
    expect(r.folders).toEqual(new Set(['brand-new']));
    expect(r.unknown).toEqual(new Set(['brand-new']));
  });

  it('an item that names no message means every folder (correctness first), without any look-up', async () => {
    const { s, lookedUp } = sources({}, {});
    const r = await resolveAffectedFolders(round([['n1', ['created']]], 1), known, s, options);
    expect(r.everyFolder).toBe(true);
    expect(lookedUp).toEqual([]);
  });

  it('more look-ups than the cap: every folder instead', async () => {
    const { s, lookedUp } = sources({}, {});
    const many = Array.from({ length: 11 }, (_, i): [string, ChangeType[]] => [`n${i}`, ['created']]);
    const r = await resolveAffectedFolders(round(many), known, s, options);
    expect(r.everyFolder).toBe(true);
    expect(lookedUp).toEqual([]);
  });

  it('a Graph failure other than "gone" fails the round (it is retried)', async () => {
    const { s } = sources({}, {});
    await expect(resolveAffectedFolders(round([['x', ['created']]]), known, s, options)).rejects.toThrow(
      'unexpected look-up of x',
    );
  });
});
