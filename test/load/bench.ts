// `pnpm bench [--quick] [--targets a,b] [--topologies 1x100,100x10] [--memory 1000,10000|none]
//             [--reliability postgres,pglite,two-processes|none] [--threads n] [--profile]
//             [--out dir]`, or `pnpm bench --web`, or `pnpm bench --search`
// Runs the load bench (harness.ts), then the reliability scenario at its large size
// (test/reliability: servers SIGKILLed and sockets cut while clients send; nothing acknowledged
// may be lost), prints the table and writes the JSON report under test/load/results/. All of it
// takes about twelve minutes on two quiet cores, --quick one to two; --quick skips reliability.
// --web runs only the web app's bench instead (web-bench.ts: a 1,000-message room in Chromium).
// --search runs only the search index's bench (search-bench.ts: 10,000 messages in Chromium).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CONFIGURATIONS,
  describeReport,
  LARGE_SIZES,
  runReliabilitySuite,
} from '../reliability/index';
import {
  BASELINES,
  runBench,
  runPendingCleanups,
  type BenchOptions,
  type Target,
  type Topology,
} from './harness';
import { formatTable, writeReport } from './report';
import { formatSearchTable, runSearchBench, searchBenchPassed } from './search-bench';
import { formatWebTable, runWebBench, webBenchPassed } from './web-bench';

const TARGETS: Target[] = [...BASELINES, 'parley-postgres', 'parley-pglite'];
const TOPOLOGIES: Topology[] = [
  { rooms: 1, size: 100 },
  { rooms: 100, size: 10 },
  { rooms: 1, size: 1000 },
];

const started = Date.now();
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    targets: { type: 'string' },
    topologies: { type: 'string' },
    memory: { type: 'string' },
    threads: { type: 'string' },
    profile: { type: 'boolean', default: false },
    reliability: { type: 'string' },
    out: { type: 'string' },
    web: { type: 'boolean', default: false },
    search: { type: 'boolean', default: false },
  },
});

if (values.search === true) {
  const result = await runSearchBench((line) => console.log(`[${elapsed()}] search ${line}`));
  console.log(`\n${formatSearchTable(result)}\n`);
  console.log(`took ${elapsed()}`);
  process.exit(searchBenchPassed(result) ? 0 : 1);
}

if (values.web === true) {
  const result = await runWebBench((line) => console.log(`[${elapsed()}] web ${line}`));
  console.log(`\n${formatWebTable(result)}\n`);
  console.log(`took ${elapsed()}`);
  process.exit(webBenchPassed(result) ? 0 : 1);
}

const resultsDir = values.out ?? fileURLToPath(new URL('./results', import.meta.url));
const quick = values.quick === true;
const options: BenchOptions = {
  ...(quick ? quickSettings() : fullSettings()),
  targets: values.targets === undefined ? TARGETS : parseList(values.targets, TARGETS, '--targets'),
  topologies: values.topologies === undefined ? TOPOLOGIES : parseTopologies(values.topologies),
  threads: values.threads === undefined ? 2 : Number(values.threads),
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  ...(values.profile === true ? { cpuProfileDir: `${resultsDir}/profiles` } : {}),
  log: (line) => console.log(`[${elapsed()}] ${line}`),
};
if (values.memory !== undefined) {
  options.memoryConnections = values.memory === 'none' ? [] : values.memory.split(',').map(Number);
}
options.memoryConnections = withinFileLimit(options.memoryConnections, options.log);

const reliabilityConfigurations =
  values.reliability === 'none' || (values.reliability === undefined && quick)
    ? []
    : values.reliability === undefined
      ? [...CONFIGURATIONS]
      : parseList(values.reliability, CONFIGURATIONS, '--reliability');

// Interrupted: drop the bench database and remove the data directory before leaving (the server
// processes stop by themselves when the bench goes away).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: cleaning up`);
    void runPendingCleanups().finally(() => process.exit(130));
  });
}

const report = await runBench(options);
const reliability =
  reliabilityConfigurations.length === 0
    ? []
    : await runReliabilitySuite(LARGE_SIZES, {
        databaseUrl: options.databaseUrl,
        configurations: reliabilityConfigurations,
        log: (line) => options.log(`reliability ${line}`),
      });
console.log(`\n${formatTable(report)}\n`);
if (reliability.length > 0) {
  console.log('reliability (servers killed and sockets cut while sending)');
  for (const run of reliability) {
    console.log(`  ${describeReport(run)}`);
    for (const problem of run.problems) console.log(`    ${problem}`);
  }
  console.log('');
}
console.log(`JSON: ${await writeReport({ ...report, reliability }, resultsDir)}`);
console.log(`took ${elapsed()}`);
process.exitCode = reliability.every((run) => run.problems.length === 0) ? 0 : 1;

function fullSettings(): Omit<
  BenchOptions,
  'targets' | 'topologies' | 'threads' | 'databaseUrl' | 'log'
> {
  return {
    fixedDeliveries: [10_000, 40_000],
    searchStartDeliveries: 10_000,
    maxDeliveries: 2_000_000,
    bisections: 3,
    retries: 1,
    freshServer: true,
    step: { durationMs: 2000, drainMs: 1000, p99BoundMs: 100 },
    warmupMs: 2000,
    memoryConnections: [1000, 10_000],
  };
}

function quickSettings(): ReturnType<typeof fullSettings> {
  return {
    fixedDeliveries: [10_000],
    searchStartDeliveries: 10_000,
    maxDeliveries: 2_000_000,
    bisections: 1,
    retries: 1,
    freshServer: true,
    step: { durationMs: 600, drainMs: 500, p99BoundMs: 100 },
    warmupMs: 1000,
    memoryConnections: [1000],
  };
}

/** A comma-separated list of names, each one of `allowed` (else a TypeError naming `flag`). */
function parseList<Name extends string>(
  list: string,
  allowed: readonly Name[],
  flag: string,
): Name[] {
  const names = list.split(',');
  for (const name of names) {
    if (!allowed.includes(name as Name)) {
      throw new TypeError(`${flag}: "${name}" is not one of ${allowed.join(', ')}`);
    }
  }
  return names as Name[];
}

function parseTopologies(list: string): Topology[] {
  return list.split(',').map((item) => {
    const match = /^(\d+)x(\d+)$/.exec(item);
    if (match === null) throw new TypeError(`--topologies: "${item}" is not ROOMSxMEMBERS`);
    return { rooms: Number(match[1]), size: Number(match[2]) };
  });
}

/**
 * The bench holds every client socket in this process and every server socket in the server's,
 * so each needs a descriptor per connection (the `bench` script raises the soft limit to the hard
 * one first). Counts that do not fit are left out, and said so.
 */
function withinFileLimit(counts: number[], log: (line: string) => void): number[] {
  let limit = Infinity;
  try {
    const line = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line !== null) limit = Number(line[1]);
  } catch {
    // Not Linux: trust the limit and let a failure say so.
  }
  const fitting = counts.filter((count) => count + 1000 <= limit);
  if (fitting.length < counts.length) {
    log(`open-file limit ${limit}: memory measured at ${fitting.join(', ') || 'no count'} only`);
  }
  return fitting;
}

function elapsed(): string {
  const seconds = Math.round((Date.now() - started) / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
