// The reliability runs for `pnpm bench` (large sizes) and for a person at a terminal:
//   pnpm --filter @parley/test-suite exec tsx reliability/index.ts [members rounds kills drops seed]
// `runReliabilitySuite(sizes)` runs the scenario on PostgreSQL, on PGlite and on two processes
// behind one PostgreSQL and Redis, one after the other, and returns the three reports.
import { fileURLToPath } from 'node:url';
import { runReliability, type ReliabilityReport, type ReliabilitySizes } from './scenario';

export { runReliability } from './scenario';
export type { ReliabilityOptions, ReliabilityReport, ReliabilitySizes } from './scenario';

/** What `pnpm test` runs: small enough for each run to take well under a minute. */
export const SMALL_SIZES: Readonly<ReliabilitySizes> = Object.freeze({
  members: 3,
  rounds: 12,
  kills: 2,
  drops: 6,
  seed: 20261122,
});

/** A larger run for the benchmark: more members, messages, cuts and kills. */
export const LARGE_SIZES: Readonly<ReliabilitySizes> = Object.freeze({
  members: 8,
  rounds: 60,
  kills: 6,
  drops: 60,
  seed: 20261122,
  roundIntervalMs: 10,
});

/** One PostgreSQL server process, one PGlite one, two on PostgreSQL sharing Redis. */
export const CONFIGURATIONS = ['postgres', 'pglite', 'two-processes'] as const;
export type Configuration = (typeof CONFIGURATIONS)[number];

export interface SuiteOptions {
  /** Admin URL for creating each run's database (DATABASE_URL or the local server by default). */
  databaseUrl?: string;
  redisUrl?: string;
  /** Which configurations to run; all three by default. */
  configurations?: Configuration[];
  /** How long each run may take to settle after its last message. */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Runs the scenario at `sizes` on each configuration; a report with problems means data loss. */
export async function runReliabilitySuite(
  sizes: ReliabilitySizes,
  options: SuiteOptions = {},
): Promise<ReliabilityReport[]> {
  const reports: ReliabilityReport[] = [];
  for (const configuration of options.configurations ?? CONFIGURATIONS) {
    const log = options.log;
    const report = await runReliability({
      ...sizes,
      engine: configuration === 'pglite' ? 'pglite' : 'postgres',
      processes: configuration === 'two-processes' ? 2 : 1,
      ...(options.databaseUrl === undefined ? {} : { databaseUrl: options.databaseUrl }),
      ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
      ...(options.settleTimeoutMs === undefined
        ? {}
        : { settleTimeoutMs: options.settleTimeoutMs }),
      ...(log === undefined ? {} : { log: (line: string) => log(`[${configuration}] ${line}`) }),
    });
    log?.(describeReport(report));
    reports.push(report);
  }
  return reports;
}

/** One line per report, for a terminal. */
export function describeReport(report: ReliabilityReport): string {
  const where = report.processes === 2 ? 'postgres ×2 + redis' : report.engine;
  const verdict = report.problems.length === 0 ? 'no loss' : `${report.problems.length} problems`;
  return (
    `${where}: ${report.members} members, ${report.sent} sent, ${report.acknowledged} acked, ` +
    `${report.stored} stored; ${report.kills} kills, ${report.cuts} cuts, ${report.resends} resends; ` +
    `starts ${report.startMs.join('/')} ms; ${(report.durationMs / 1000).toFixed(1)} s: ${verdict}`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [members, rounds, kills, drops, seed] = process.argv.slice(2).map(Number);
  const sizes: ReliabilitySizes = {
    ...LARGE_SIZES,
    ...(members === undefined ? {} : { members }),
    ...(rounds === undefined ? {} : { rounds }),
    ...(kills === undefined ? {} : { kills }),
    ...(drops === undefined ? {} : { drops }),
    ...(seed === undefined ? {} : { seed }),
  };
  const reports = await runReliabilitySuite(sizes, { log: (line) => console.log(line) });
  for (const report of reports) {
    for (const problem of report.problems) console.log(`${describeReport(report)}: ${problem}`);
  }
  process.exitCode = reports.every((report) => report.problems.length === 0) ? 0 : 1;
}
