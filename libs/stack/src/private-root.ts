/**
 * Where a service's files live when its daemons run as another system user (postfix, dovenull, nobody,
 * postgres). Those users must be able to traverse every directory above their files. A checkout under a private
 * directory (`mktemp -d` makes mode 0700, which is how CI clones) denies them; then the files go to a directory
 * of this checkout's own in the machine's shared temporary space (`/var/tmp/email-core-<service>-<checkout
 * hash>`, mode 0755, owned by us), and `.stack/<service>` is a symbolic link to it; otherwise they stay in
 * `.stack/<service>`. Decided from the checkout's path alone (no side effects), so `status` and `down` find
 * what `up` made.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, STACK_DIR, rel } from './state';

/** Eight hex digits naming this checkout (by its path) in names shared with other checkouts. */
export function checkoutHash(root: string = ROOT): string {
  return createHash('sha256').update(root).digest('hex').slice(0, 8);
}

/** Whether users other than us can reach `dir` (each existing ancestor has the execute bit for others). */
export function othersCanTraverse(dir: string, stat: (p: string) => { mode: number } = fs.statSync): boolean {
  let current = path.resolve(dir);
  for (;;) {
    try {
      if ((stat(current).mode & 0o001) === 0) return false;
    } catch {
      // not created yet: its mode will be ours (0755)
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

export interface ServiceRootInput {
  /** e.g. 'mail', 'pg': `.stack/<service>` and `/var/tmp/email-core-<service>-<hash>` */
  service: string;
  /** the checkout's `.stack` directory */
  stackDir?: string;
  /** the checkout's root (for the hash) */
  checkoutRoot?: string;
  /** the shared temporary directory; /var/tmp when it exists, else os.tmpdir() */
  sharedTmp?: string;
  /** for tests */
  stat?: (p: string) => { mode: number };
}

/** `.stack/<service>` when other users can reach it, else `/var/tmp/email-core-<service>-<checkout hash>`. */
export function serviceRoot(input: ServiceRootInput): string {
  const stackDir = input.stackDir ?? STACK_DIR;
  const local = path.join(stackDir, input.service);
  if (othersCanTraverse(stackDir, input.stat)) return local;
  const shared = input.sharedTmp ?? (fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir());
  return path.join(shared, `email-core-${input.service}-${checkoutHash(input.checkoutRoot ?? ROOT)}`);
}

/**
 * Makes the service root: `.stack/<service>` itself (`root === local`), or the shared directory plus the
 * `.stack/<service>` link to it. A shared directory someone else made (or a link planted there) is refused
 * rather than used. `label` prefixes error messages ("mail", "postgres").
 */
export function ensureServiceRoot(root: string, local: string, label: string): void {
  if (root === local) {
    if (fs.lstatSync(local, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(local);
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
    return;
  }
  try {
    fs.mkdirSync(root, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = fs.lstatSync(root);
  const uid = process.getuid?.() ?? st.uid;
  if (!st.isDirectory() || st.uid !== uid) {
    throw new Error(`${label}: ${root} is not a directory of ours; remove it and run stack:up again`);
  }
  fs.chmodSync(root, 0o755);
  const link = fs.lstatSync(local, { throwIfNoEntry: false });
  if (link && !link.isSymbolicLink()) {
    throw new Error(
      `${label}: ${rel(local)} is a directory, but this checkout's path is not reachable by the ${label} server's users, ` +
        `so its files now live in ${root}; stop the stack, remove ${rel(local)} and run stack:up again`,
    );
  }
  if (link && fs.readlinkSync(local) === root) return;
  if (link) fs.unlinkSync(local);
  fs.mkdirSync(path.dirname(local), { recursive: true });
  fs.symlinkSync(root, local);
}

/** uid and gid of a system user from /etc/passwd. */
export function systemUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    /* none */
  }
  return undefined;
}
