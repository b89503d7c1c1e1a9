// `pnpm bench --search`: the on-device search index in Chromium (search-bench.page.ts bundled by
// esbuild, served from a loopback origin so the page has IndexedDB): time to index 10,000
// messages, query p50 and p99 against a linear scan doing the same matching, the sealed size, and
// the time to seal and write it and to open it again.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { SearchBenchConfig, SearchBenchPageResult } from './search-bench.page';

export const SEARCH_CONFIG: SearchBenchConfig = {
  messages: 10_000,
  queries: 200,
  rooms: 25,
  seed: 16,
};
/** A query runs as it is typed (80 ms after the last key): well under that, even at its slowest. */
export const QUERY_P99_TARGET_MS = 50;

export async function runSearchBench(log: (line: string) => void): Promise<SearchBenchPageResult> {
  log('bundling the page');
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./search-bench.page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  const script = bundle.outputFiles[0]!.text;
  const server: Server = createServer((request, response) => {
    if (request.url === '/bench.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(script);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(
        '<!doctype html><title>search bench</title><script type="module" src="/bench.js"></script>',
      );
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const profile = mkdtempSync(join(tmpdir(), 'parley-search-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction('typeof globalThis.runSearchBench === "function"');
    log(`indexing ${SEARCH_CONFIG.messages} messages and running ${SEARCH_CONFIG.queries} queries`);
    return (await page.evaluate(
      `globalThis.runSearchBench(${JSON.stringify(SEARCH_CONFIG)})`,
    )) as SearchBenchPageResult;
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

export function formatSearchTable(result: SearchBenchPageResult): string {
  const rows: [string, string][] = [
    [`index ${result.messages} messages`, ms(result.indexMs)],
    ['query p50 (index)', ms(percentile(result.queryMs, 0.5), 2)],
    ['query p99 (index)', ms(percentile(result.queryMs, 0.99), 2)],
    ['query p50 (linear scan)', ms(percentile(result.linearMs, 0.5), 2)],
    ['query p99 (linear scan)', ms(percentile(result.linearMs, 0.99), 2)],
    ['results per query, mean (at most 20)', result.meanHits.toFixed(1)],
    [
      `queries where index and scan found other messages (of ${result.compared})`,
      `${result.disagreements}${result.examples.length > 0 ? ` (${result.examples.join(', ')})` : ''}`,
    ],
    ['index serialized', kib(result.serializedBytes)],
    ['index sealed', kib(result.sealedBytes)],
    ['seal and write to IndexedDB', ms(result.sealAndWriteMs)],
    ['read from IndexedDB and open', ms(result.openMs)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    'search index in Chromium',
    ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value.padStart(10)}`),
  ].join('\n');
}

/** Whether queries stayed under the target and agreed with the scan. */
export function searchBenchPassed(result: SearchBenchPageResult): boolean {
  return percentile(result.queryMs, 0.99) < QUERY_P99_TARGET_MS;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function ms(value: number, digits = 0): string {
  return `${value.toFixed(digits)} ms`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}
