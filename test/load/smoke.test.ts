// A few seconds of the bench at a tiny size: every server under test starts, the generator's
// clients authenticate, subscribe, send real envelopes and receive them, and the report has a
// figure and a ratio for every row. It asserts that the bench works, never how fast anything is.
import { describe, expect, it } from 'vitest';
import { BASELINES, runBench, type BenchReport, type Target } from './harness';
import { reachable } from './postgres';
import { formatTable, tableRows } from './report';

describe('pnpm bench, smoke size', () => {
  let report: BenchReport;

  it('measures the baseline and Parley with one generator', async () => {
    const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    // One database engine is enough to show the bench works; PostgreSQL starts faster than a
    // fresh PGlite (which runs initdb), PGlite is there when no PostgreSQL is.
    const parley: Target = (await reachable(databaseUrl)) ? 'parley-postgres' : 'parley-pglite';
    report = await runBench({
      targets: [...BASELINES, parley],
      topologies: [
        { rooms: 1, size: 8 },
        { rooms: 3, size: 4 },
      ],
      fixedDeliveries: [800],
      searchStartDeliveries: 800,
      maxDeliveries: 1600,
      bisections: 0,
      retries: 0,
      // The server that made the accounts is measured: starting another would double the time.
      freshServer: false,
      step: { durationMs: 300, drainMs: 500, p99BoundMs: 100 },
      warmupMs: 200,
      memoryConnections: [40],
      threads: 2,
      databaseUrl,
      log: () => {},
    });
    expect(report.results.map((r) => [r.target, r.skipped])).toEqual([
      ['baseline', undefined],
      ['baseline-corked', undefined],
      ['baseline-batched', undefined],
      [parley, undefined],
    ]);

    for (const result of report.results) {
      expect(result.topologies).toHaveLength(2);
      for (const topology of result.topologies) {
        // Every message reached every subscribed socket, the sender's own included.
        const [fixed] = topology.fixed;
        expect(fixed!.sent).toBeGreaterThan(0);
        expect(fixed!.received).toBe(fixed!.sent * topology.topology.size);
        expect(topology.search.length).toBeGreaterThan(0);
      }
      const [memory] = result.memory!.samples;
      expect(memory!.connections).toBe(40);
      expect(memory!.rssBytes).toBeGreaterThan(0);
    }
  });

  it('prints a table with delivered rates, latencies and ratios to the baseline', () => {
    const rows = tableRows(report);
    const fixedRows = rows.filter((row) => row.kind === 'fixed');
    expect(new Set(fixedRows.map((row) => row.target)).size).toBe(4);
    for (const row of fixedRows) {
      expect(row.deliveredPerSecond).toBeGreaterThan(0);
      expect(Number.isFinite(row.p50)).toBe(true);
      for (const baseline of BASELINES) expect(row.ratios[baseline]).toBeGreaterThan(0);
      // At this size the CPU clock's 10 ms ticks may read zero; the figure must be there.
      expect(row.serverMicrosPerDelivery).toBeTypeOf('number');
    }
    const table = formatTable(report);
    expect(table).toMatch(/µs\/delivery\s+vs baseline\s+vs corked\s+vs batched/);
    for (const row of fixedRows) {
      const ratios = BASELINES.map((b) => `${(row.ratios[b]! * 100).toFixed(0)}%`).join('\\s+');
      expect(table).toMatch(new RegExp(`${row.target}\\s.*\\s${ratios}$`, 'm'));
    }
    expect(table).toMatch(/parley-\w+\s+40 connections: -?[\d.]+ KiB each/);
  });
});
