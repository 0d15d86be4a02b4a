/**
 * CPU accounting from /proc (Linux), so a figure taken on a shared machine says how shared it was:
 * the whole machine's busy time against the time of the processes the bench itself runs.
 * Everything is in cores (1.0 = one core busy for the whole interval).
 */
import fs from 'node:fs';

interface Snapshot {
  at: number;
  total: number;
  busy: number;
  /** utime + stime per pid, in the same ticks as /proc/stat. */
  procs: Map<number, number>;
}

export interface CpuUse {
  seconds: number;
  /** All cores of the machine busy, in cores. */
  machine: number;
  /** Per label (our processes), in cores. */
  ours: Record<string, number>;
  /** Busy time of every process the bench did not start (other users of the machine), in cores. */
  foreign: number;
}

const CPUS = (() => {
  try {
    return fs.readFileSync('/proc/stat', 'utf8').split('\n').filter((line) => /^cpu\d+ /.test(line)).length || 1;
  } catch {
    return 1;
  }
})();

function machineTicks(): { total: number; busy: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const total = fields.slice(0, 8).reduce((sum, value) => sum + (Number.isFinite(value) ? value : 0), 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { total, busy: total - idle };
}

function processTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

/** Takes a snapshot of the machine and of the given processes now; `end()` returns the use since then. */
export function cpuMeter(pids: Record<string, number | undefined>): { end(): CpuUse } | undefined {
  if (!fs.existsSync('/proc/stat')) return undefined;
  const take = (): Snapshot => {
    const procs = new Map<number, number>();
    for (const pid of Object.values(pids)) if (pid !== undefined) procs.set(pid, processTicks(pid));
    return { at: performance.now(), ...machineTicks(), procs };
  };
  const start = take();
  return {
    end(): CpuUse {
      const stop = take();
      const totalTicks = stop.total - start.total;
      const toCores = (ticks: number) => (totalTicks > 0 ? (ticks / totalTicks) * CPUS : Number.NaN);
      const ours: Record<string, number> = {};
      let oursTicks = 0;
      for (const [label, pid] of Object.entries(pids)) {
        if (pid === undefined) continue;
        const ticks = (stop.procs.get(pid) ?? Number.NaN) - (start.procs.get(pid) ?? Number.NaN);
        ours[label] = toCores(ticks);
        if (Number.isFinite(ticks)) oursTicks += ticks;
      }
      const busyTicks = stop.busy - start.busy;
      return { seconds: (stop.at - start.at) / 1000, machine: toCores(busyTicks), ours, foreign: Math.max(0, toCores(busyTicks - oursTicks)) };
    },
  };
}
