// Runs the `parley` command as a person would, against a live server: one home folder (key store,
// session) per person under a test's root folder, output and exit code collected.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const CLIENT = resolve(import.meta.dirname, '../../packages/client');

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/**
 * `parley ...args` with PARLEY_HOME `<root>/<home>` and PARLEY_SERVER `server`, `env` over this
 * process's environment; resolves when it exits, with its output trimmed.
 */
export async function runCli(
  where: { root: string; home: string; server: string },
  env: Record<string, string>,
  args: string[],
): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: CLIENT,
    env: {
      ...process.env,
      PARLEY_HOME: join(where.root, where.home),
      PARLEY_SERVER: where.server,
      ...env,
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  return { code, out: out.trim(), err: err.trim() };
}
