// Builds the web app once per test run, into a directory of this run, so every browser test
// serves the same production bundle and no two runs (or a developer's build) collide.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

declare module 'vitest' {
  export interface ProvidedContext {
    webBuild: string;
  }
}

export default function setup(project: TestProject): () => void {
  const started = Date.now();
  // Inside web/ so the server-side build output still resolves @sveltejs/kit from node_modules.
  const output = mkdtempSync(join(WEB, 'node_modules', '.parley-test-build-'));
  execFileSync(join(WEB, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'error'], {
    cwd: WEB,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PARLEY_WEB_OUTPUT: output, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
  });
  console.log(`browser tests: web app built in ${Date.now() - started} ms`);
  project.provide('webBuild', join(output, 'build'));
  return () => rmSync(output, { recursive: true, force: true });
}
