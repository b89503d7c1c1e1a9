// `pnpm test` runs the reliability scenario at a small size on each storage the server supports
// and on two processes sharing PostgreSQL and Redis; `pnpm bench` runs the same code larger.
import { describe, expect, it } from 'vitest';
import { SMALL_SIZES as SMALL } from './index';
import { runReliability, type ReliabilityReport } from './scenario';

describe('acknowledged messages survive cut sockets and SIGKILLed servers', () => {
  it('on PostgreSQL', async () => {
    const report = await runReliability({ ...SMALL, engine: 'postgres', processes: 1 });
    expectLossless(report);
  });

  it('on PGlite', async () => {
    const report = await runReliability({ ...SMALL, engine: 'pglite', processes: 1 });
    expectLossless(report);
  });

  it('on two processes behind one PostgreSQL and Redis, one of them killed at a time', async () => {
    const report = await runReliability({ ...SMALL, seed: 7, engine: 'postgres', processes: 2 });
    expectLossless(report);
  });
});

function expectLossless(report: ReliabilityReport): void {
  expect(report.problems, JSON.stringify(report, null, 2)).toEqual([]);
  const total = SMALL.members * SMALL.rounds;
  expect(report.sent).toBe(total);
  expect(report.acknowledged).toBe(total);
  expect(report.stored).toBe(total);
  expect(report.kills).toBe(SMALL.kills);
  // The faults happened: sockets were cut and messages had to be sent again.
  expect(report.cuts).toBeGreaterThan(0);
}
