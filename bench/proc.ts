import fs from 'node:fs';

/** A process's resident set from /proc (`VmRSS` now, `VmHWM` its peak), in bytes; 0 when it is gone. */
export function procStatus(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  if (!pid) return 0;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // the process is gone
  }
}

/** One process's CPU from /proc/<pid>/stat: its own user + system ticks, and its reaped children's. */
interface ProcTicks {
  pid: number;
  comm: string;
  own: number;
  children: number;
}

function readProcTicks(pid: number): ProcTicks | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // the fields after the command name (which may hold spaces), from the state on: utime 11, stime 12, cutime 13,
    // cstime 14
    return { pid, comm, own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined; // gone between the listing and the read
  }
}

/** CPU seconds a process has used so far (user + system, from /proc/<pid>/stat); 0 when it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  return pid ? (readProcTicks(pid)?.own ?? 0) / 100 : 0; // USER_HZ, 100 on Linux
}

/** Every process's CPU ticks now, and the machine's busy and total ticks (all cores, from /proc/stat). */
export interface CpuSnapshot {
  procs: Map<number, ProcTicks>;
  machineBusy: number;
  machineTotal: number;
}

export function cpuSnapshot(): CpuSnapshot {
  const procs = new Map<number, ProcTicks>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const t = readProcTicks(Number(name));
    if (t) procs.set(t.pid, t);
  }
  const cpu =
    fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
  return { procs, machineBusy: total - idle, machineTotal: total };
}

/**
 * CPU seconds between two snapshots, per group: a group is the processes whose pid is listed or whose command name
 * matches, with the CPU of their children that exited in between (reaped into the parent's cutime/cstime: a
 * Postgres backend that ended is counted through the postmaster). Processes in no group add to `other`;
 * `machine` is every core's busy time, `cores` the interval's length times the core count.
 */
export function cpuSplit(
  before: CpuSnapshot,
  after: CpuSnapshot,
  groups: Array<{ name: string; pids?: Array<number | undefined>; comm?: RegExp }>,
): {
  groups: Record<string, number>;
  other: number;
  /** the command names that make up most of `other`, CPU seconds each */
  otherTop: Record<string, number>;
  machine: number;
  available: number;
} {
  const out: Record<string, number> = {};
  for (const g of groups) out[g.name] = 0;
  let other = 0;
  const others = new Map<string, number>();
  for (const [pid, a] of after.procs) {
    const b = before.procs.get(pid);
    // a process started in between counts from zero; a pid reused by another command counts from zero too
    const base = b && b.comm === a.comm ? b.own + b.children : 0;
    const ticks = a.own + a.children - base;
    const g = groups.find((x) => x.pids?.includes(pid) || x.comm?.test(a.comm));
    if (g) out[g.name] = (out[g.name] ?? 0) + ticks / 100;
    else {
      other += ticks / 100;
      others.set(a.comm, (others.get(a.comm) ?? 0) + ticks / 100);
    }
  }
  const otherTop = Object.fromEntries(
    [...others]
      .filter(([, v]) => v >= 0.05)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 8)
      .map(([k, v]) => [k, Number(v.toFixed(2))]),
  );
  const machine = (after.machineBusy - before.machineBusy) / 100;
  const available = (after.machineTotal - before.machineTotal) / 100;
  return { groups: out, other, otherTop, machine, available };
}

/**
 * The process groups a benchmark of the running product splits the machine's CPU into (`cpuSplit`): its three
 * apps, the benchmark itself, and the stack's Postgres (the replica's replay included), Kafka and Redis.
 */
export function productCpuGroups(pids: {
  consumer: number | undefined;
  producer: number | undefined;
  emulator: number | undefined;
}): Array<{ name: string; pids?: Array<number | undefined>; comm?: RegExp }> {
  return [
    { name: 'consumer', pids: [pids.consumer] },
    { name: 'emulator', pids: [pids.emulator] },
    { name: 'producer', pids: [pids.producer] },
    { name: 'bench', pids: [process.pid] },
    { name: 'postgres', comm: /^postgres$/ },
    { name: 'kafka', comm: /^java$/ },
    { name: 'redis', comm: /^redis-server$/ },
  ];
}
