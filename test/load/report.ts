// The bench's results as a table for people and as JSON for machines. Parley's figures are shown
// beside the baseline's for the same topology and offered rate, as a ratio of it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepResult } from './generator';
import {
  BASELINES,
  isBaseline,
  type Baseline,
  type BenchReport,
  type Target,
  type TargetResult,
  type Topology,
  type TopologyResult,
} from './harness';

export interface TableRow {
  topology: string;
  target: Target;
  /** `fixed` for an offered rate given in advance, `saturation` for the search's result. */
  kind: 'fixed' | 'saturation';
  rate: number;
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  ackP99: number;
  /** Cores used by the server (with PostgreSQL's processes) and by the rest of the machine. */
  serverCores: number | undefined;
  otherCores: number | undefined;
  /** CPU time per delivery, in microseconds: of the server process, and of PostgreSQL's. */
  serverMicrosPerDelivery: number | undefined;
  databaseMicrosPerDelivery: number | undefined;
  /**
   * Delivered per second as a fraction of each baseline's in the same row kind (1 for itself),
   * where that baseline was measured.
   */
  ratios: Partial<Record<Baseline, number>>;
  pass: boolean;
}

export function tableRows(report: BenchReport): TableRow[] {
  const rows: TableRow[] = [];
  for (const topology of report.options.topologies) {
    const of = (target: Target) =>
      report.results
        .find((r) => r.target === target)
        ?.topologies.find((t) => sameTopology(t.topology, topology));
    const baselines = BASELINES.map((baseline) => [baseline, of(baseline)] as const);
    /** Each baseline's step of the same kind as the row's, where it was measured. */
    const references = (same: (baseline: TopologyResult) => StepResult | undefined) =>
      baselines.map(([baseline, measured]) => [baseline, measured && same(measured)] as const);
    for (const result of report.results) {
      const measured = result.topologies.find((t) => sameTopology(t.topology, topology));
      if (measured === undefined) continue;
      measured.fixed.forEach((step, i) => {
        rows.push(
          row(
            topology,
            result,
            'fixed',
            step,
            references((b) => b.fixed[i]),
          ),
        );
      });
      if (measured.saturation !== undefined) {
        const against = references((b) => b.saturation);
        rows.push(row(topology, result, 'saturation', measured.saturation, against));
      }
    }
  }
  return rows;
}

function row(
  topology: Topology,
  result: TargetResult,
  kind: TableRow['kind'],
  step: StepResult,
  references: readonly (readonly [Baseline, StepResult | undefined])[],
): TableRow {
  const ratios: TableRow['ratios'] = {};
  for (const [baseline, reference] of references) {
    if (reference !== undefined && reference.deliveredPerSecond > 0) {
      ratios[baseline] = step.deliveredPerSecond / reference.deliveredPerSecond;
    }
  }
  const perDelivery = (cores: number | undefined) =>
    cores === undefined || step.deliveredPerSecond === 0
      ? undefined
      : (cores / step.deliveredPerSecond) * 1e6;
  return {
    topology: `${topology.rooms}×${topology.size}`,
    target: result.target,
    kind,
    rate: step.rate,
    deliveredPerSecond: step.deliveredPerSecond,
    p50: step.p50,
    p99: step.p99,
    ackP99: step.ackP99,
    serverCores: step.cpu === undefined ? undefined : step.cpu.server + step.cpu.database,
    otherCores: step.cpu?.other,
    serverMicrosPerDelivery: perDelivery(step.cpu?.server),
    databaseMicrosPerDelivery: perDelivery(step.cpu?.database),
    ratios,
    pass: step.pass,
  };
}

const HEADER = [
  'topology',
  'server',
  'load',
  'offered msg/s',
  'delivered/s',
  'p50 ms',
  'p99 ms',
  'ack p99 ms',
  'server cores',
  'other cores',
  'µs/delivery',
  'vs baseline',
  'vs corked',
  'vs batched',
];

/** The results as an aligned text table, then memory per connection. */
export function formatTable(report: BenchReport): string {
  const lines = tableRows(report).map((r) => [
    r.topology,
    r.target,
    r.kind === 'fixed' ? 'fixed' : 'saturation',
    integer(r.rate),
    integer(r.deliveredPerSecond),
    latency(r.p50),
    latency(r.p99) + (r.pass ? '' : ' !'),
    isBaseline(r.target) ? '-' : latency(r.ackP99),
    r.serverCores === undefined ? '-' : r.serverCores.toFixed(2),
    r.otherCores === undefined ? '-' : r.otherCores.toFixed(2),
    micros(r),
    ...BASELINES.map((baseline) => percent(r.ratios[baseline])),
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [render(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)];

  const memory = report.results.filter((r) => r.memory !== undefined);
  if (memory.length > 0) {
    out.push('', 'server memory per idle connection (RSS growth over the idle server, after GC)');
    for (const result of memory) {
      for (const sample of result.memory!.samples) {
        out.push(
          `  ${result.target.padEnd(16)} ${String(sample.connections).padStart(6)} connections: ` +
            `${(sample.rssPerConnection / 1024).toFixed(1)} KiB each ` +
            `(heap ${(sample.heapPerConnection / 1024).toFixed(1)} KiB), ` +
            `RSS ${(sample.rssBytes / 1024 / 1024).toFixed(0)} MiB`,
        );
      }
    }
  }
  for (const result of report.results) {
    if (result.skipped !== undefined) out.push(`${result.target}: skipped (${result.skipped})`);
  }
  const others = report.results
    .flatMap((r) => r.topologies.flatMap((t) => [...t.fixed, ...t.search]))
    .flatMap((step) => (step.cpu === undefined ? [] : [step.cpu.other]));
  if (others.length > 0) {
    const mean = others.reduce((a, b) => a + b, 0) / others.length;
    out.push(
      '',
      `Other processes on this machine used ${mean.toFixed(2)} of its ${report.machine.cpus} cores ` +
        `on average during the steps` +
        (mean > 0.5 ? ': the servers competed for CPU, so repeat on a quiet machine.' : '.'),
    );
  }
  out.push(
    '',
    `p99 marked ! failed the step (loss, error, closed socket or p99 ≥ ${report.options.step.p99BoundMs} ms). ` +
      `Saturation: the highest offered rate that passed. vs corked: against the baseline that ` +
      `holds each socket's writes to the end of the tick; vs batched: against the one that writes ` +
      `each socket's frames of an event-loop turn in one write, as Parley's relay does with a ` +
      `commit batch. Server cores include PostgreSQL's processes; µs/delivery is CPU time per ` +
      `delivery, the server's + PostgreSQL's; other cores are whatever else ran on the machine ` +
      `meanwhile.`,
  );
  return out.join('\n');
}

/** Writes the report as JSON (infinite latencies as null) and returns the file's path. */
export async function writeReport(
  report: BenchReport & { reliability?: unknown },
  dir: string,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`;
  const json = JSON.stringify(
    { ...report, table: tableRows(report) },
    (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value),
    2,
  );
  const path = join(dir, name);
  await writeFile(path, `${json}\n`);
  await writeFile(join(dir, 'latest.json'), `${json}\n`);
  return path;
}

function sameTopology(a: Topology, b: Topology): boolean {
  return a.rooms === b.rooms && a.size === b.size;
}

function integer(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function micros(row: TableRow): string {
  if (row.serverMicrosPerDelivery === undefined) return '-';
  const server = row.serverMicrosPerDelivery.toFixed(0);
  return row.databaseMicrosPerDelivery === undefined || isBaseline(row.target)
    ? server
    : `${server}+${row.databaseMicrosPerDelivery.toFixed(0)}`;
}

function percent(ratio: number | undefined): string {
  return ratio === undefined ? '-' : `${(ratio * 100).toFixed(0)}%`;
}

function latency(value: number): string {
  if (!Number.isFinite(value)) return '∞';
  return value.toFixed(value < 10 ? 2 : 1);
}
