// CPU time of the server, of the bench process (the load generator's threads) and of the whole
// machine (/proc on Linux), so each step can say where the two cores went: a server can only be
// compared with the baseline fairly while the generator is not the one that ran out.
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc times (USER_HZ; 100 on every mainstream Linux). */
const TICKS_PER_SECOND = 100;

export interface CpuCounters {
  at: number;
  server: number;
  generator: number;
  /** CPU seconds of each PostgreSQL process, by pid. */
  database: Map<number, number>;
  machine: number;
}

/**
 * Cores in use on average between two readings: the server, the generator, PostgreSQL's
 * processes (PGlite runs inside the server), and everything else on the machine.
 */
export interface CpuShares {
  server: number;
  generator: number;
  database: number;
  other: number;
}

export function readCpu(serverPid: number): CpuCounters | undefined {
  try {
    const usage = process.cpuUsage();
    return {
      at: performance.now(),
      server: processSeconds(serverPid),
      generator: (usage.user + usage.system) / 1e6,
      database: postgresSeconds(),
      machine: machineBusySeconds(),
    };
  } catch {
    return undefined;
  }
}

export function cpuShares(
  from: CpuCounters | undefined,
  to: CpuCounters | undefined,
): CpuShares | undefined {
  if (from === undefined || to === undefined) return undefined;
  const seconds = (to.at - from.at) / 1000;
  const server = (to.server - from.server) / seconds;
  const generator = (to.generator - from.generator) / seconds;
  // Per process: a backend that exited in between takes its whole time with it, and one that
  // started in between counts from zero.
  let databaseSeconds = 0;
  for (const [pid, total] of to.database) databaseSeconds += total - (from.database.get(pid) ?? 0);
  const database = databaseSeconds / seconds;
  const machine = (to.machine - from.machine) / seconds;
  return {
    server,
    generator,
    database,
    other: Math.max(0, machine - server - generator - database),
  };
}

function processSeconds(pid: number): number {
  return processStat(pid).seconds;
}

/** CPU time of every process named `postgres` (the server and its backends), by pid. */
function postgresSeconds(): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = processStat(Number(entry));
      if (stat.command === 'postgres') seconds.set(Number(entry), stat.seconds);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return seconds;
}

function processStat(pid: number): { command: string; seconds: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may hold spaces; fields follow the last ')'.
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return {
    command: stat.slice(stat.indexOf('(') + 1, close),
    seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
  };
}

function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS_PER_SECOND;
}
