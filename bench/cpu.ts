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

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces): field 3 (state) first. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function processTicks(pid: number): number {
  const fields = statFields(pid);
  return fields ? Number(fields[11]) + Number(fields[12]) : Number.NaN;
}

/**
 * A process and all its descendants (PostgreSQL: the postmaster and its backends): the live ones' own
 * time, plus the root's cutime/cstime, which holds the children it has already reaped.
 */
function treeTicks(root: number): number {
  const rootFields = statFields(root);
  if (!rootFields) return Number.NaN;
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === root) continue;
    const parent = Number(statFields(pid)?.[1]);
    if (Number.isInteger(parent)) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  let ticks = Number(rootFields[11]) + Number(rootFields[12]) + Number(rootFields[13]) + Number(rootFields[14]);
  const pending = [...(children.get(root) ?? [])];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    const own = processTicks(pid);
    if (Number.isFinite(own)) ticks += own;
    pending.push(...(children.get(pid) ?? []));
  }
  return ticks;
}

/**
 * Takes a snapshot of the machine and of the given processes now; `end()` returns the use since then.
 * The processes named in `trees` count with all their descendants (a database server and its backends).
 */
export function cpuMeter(pids: Record<string, number | undefined>, trees: Record<string, number | undefined> = {}): { end(): CpuUse } | undefined {
  if (!fs.existsSync('/proc/stat')) return undefined;
  const treeRoots = new Set(Object.values(trees).filter((pid): pid is number => pid !== undefined));
  const all = { ...pids, ...trees };
  const take = (): Snapshot => {
    const procs = new Map<number, number>();
    for (const pid of Object.values(all)) if (pid !== undefined) procs.set(pid, treeRoots.has(pid) ? treeTicks(pid) : processTicks(pid));
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
      for (const [label, pid] of Object.entries(all)) {
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
