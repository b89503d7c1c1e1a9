// Runs every protocol test-vector file through both implementations, @parley/crypto
// (parley-checker.ts) and the independent noble one (noble/checker.ts), and prints per file and
// implementation how many cases were checked and passed. Exits non-zero on any failed case, a
// missing file or a missing checker.
//
//   pnpm vectors:check
import { readFileSync } from 'node:fs';
import { VECTOR_OPERATIONS, type CaseResult, type VectorChecker, type VectorFile } from './types';

const IMPLEMENTATIONS: { name: string; module: string }[] = [
  { name: '@parley/crypto', module: './parley-checker' },
  { name: 'noble', module: './noble/checker' },
];

interface Row {
  file: string;
  implementation: string;
  cases: number;
  checked: number;
  passed: number;
  failures: string[];
  seconds: number;
}

async function main(): Promise<number> {
  const problems: string[] = [];
  const checkers: { name: string; check: VectorChecker }[] = [];
  for (const { name, module } of IMPLEMENTATIONS) {
    try {
      const loaded = (await import(module)) as { checkVectors?: VectorChecker };
      if (typeof loaded.checkVectors !== 'function')
        throw new Error('it exports no checkVectors function');
      checkers.push({ name, check: loaded.checkVectors });
    } catch (error) {
      problems.push(`checker ${name} (${module}) could not be loaded: ${(error as Error).message}`);
    }
  }

  const rows: Row[] = [];
  for (const operation of VECTOR_OPERATIONS) {
    const path = new URL(`./${operation}.json`, import.meta.url);
    let file: VectorFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as VectorFile;
    } catch (error) {
      problems.push(`${operation}.json could not be read: ${(error as Error).message}`);
      continue;
    }
    for (const { name, check } of checkers) {
      const started = performance.now();
      let results: CaseResult[];
      try {
        results = await check(operation, file);
      } catch (error) {
        results = [];
        problems.push(
          `${name} threw on ${operation}.json: ${(error as Error).stack ?? String(error)}`,
        );
      }
      rows.push(
        summarise(`${operation}.json`, name, file, results, (performance.now() - started) / 1000),
      );
    }
  }

  printTable(rows);
  for (const row of rows) {
    for (const failure of row.failures)
      problems.push(`${row.file} ${row.implementation}: ${failure}`);
  }
  if (problems.length > 0) {
    console.error(`\n${problems.length} problem(s):`);
    for (const problem of problems) console.error(`  ${problem}`);
    return 1;
  }
  const total = rows.reduce((n, row) => n + row.checked, 0);
  console.log(`\nall ${total} case checks passed in ${checkers.length} implementations`);
  return 0;
}

/** Every case must come back exactly once and pass; anything else is a failure. */
function summarise(
  file: string,
  implementation: string,
  vectors: VectorFile,
  results: CaseResult[],
  seconds: number,
): Row {
  const failures: string[] = [];
  const byId = new Map<number, CaseResult>();
  for (const result of results) {
    if (byId.has(result.id)) failures.push(`case ${result.id} reported twice`);
    byId.set(result.id, result);
  }
  let passed = 0;
  for (const vector of vectors.cases) {
    const result = byId.get(vector.id);
    if (result === undefined) failures.push(`case ${vector.id} not checked`);
    else if (result.ok) passed++;
    else failures.push(`case ${vector.id} (${vector.comment}): ${result.detail ?? 'failed'}`);
  }
  return {
    file,
    implementation,
    cases: vectors.cases.length,
    checked: byId.size,
    passed,
    failures,
    seconds,
  };
}

function printTable(rows: Row[]): void {
  const header = ['file', 'implementation', 'cases', 'checked', 'passed', 'time'];
  const lines = rows.map((row) => [
    row.file,
    row.implementation,
    String(row.cases),
    String(row.checked),
    String(row.passed),
    `${row.seconds.toFixed(2)} s`,
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => line[i]!.length)),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (i >= 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
}

process.exitCode = await main();
