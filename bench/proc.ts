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

/** CPU seconds a process has used so far (user + system, from /proc/<pid>/stat); 0 when it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    // the fields after the command name (which may hold spaces), from the state on: utime and stime are 12 and 13
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ, 100 on Linux
  } catch {
    return 0;
  }
}
