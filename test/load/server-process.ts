// Starts a server under test in a child process of its own, so that it has its own event loop,
// heap and RSS, apart from the load generator's.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ControlReport, ControlRequest, MemorySample } from './servers/control';

export type ServerKind = 'baseline' | 'parley';

export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  readonly wsUrl: string;
  readonly httpUrl: string;
  /** The child's memory after a full garbage collection. */
  memory(): Promise<MemorySample>;
  /** Starts recording a CPU profile of the server. */
  profileStart(): void;
  /** Writes the profile recorded since profileStart to `path` (a .cpuprofile file). */
  profileStop(path: string): Promise<void>;
  /** Closes the server gracefully (sockets, database) and waits for the process to exit. */
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
}

const ENTRIES: Record<ServerKind, string> = {
  baseline: fileURLToPath(new URL('./servers/baseline.ts', import.meta.url)),
  parley: fileURLToPath(new URL('./servers/parley.ts', import.meta.url)),
};

/** tsx's loader, resolved here so the child runs TypeScript whoever started the bench. */
const TSX_LOADER = createRequire(import.meta.url).resolve('tsx');

export async function startServer(
  kind: ServerKind,
  options: StartOptions = {},
): Promise<ServerProcess> {
  const execArgv = ['--expose-gc', '--import', TSX_LOADER];
  const child = fork(ENTRIES[kind], [], {
    execArgv,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const onMessage = (report: ControlReport) => {
      if (report.type === 'listening') resolve(report.port);
      if (report.type === 'failed') reject(new Error(`startServer(${kind}): ${report.message}`));
    };
    child.on('message', onMessage);
    void exited.then((code) => reject(new Error(`startServer(${kind}): exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    memory: () => ask(child, { type: 'memory' }, 'memory').then((report) => report.memory),
    profileStart: () => request(child, { type: 'profile-start' }),
    profileStop: (path) => ask(child, { type: 'profile-stop', path }, 'profiled').then(() => {}),
    async stop() {
      if (child.exitCode !== null) return;
      request(child, { type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function request(child: ChildProcess, message: ControlRequest): void {
  child.send(message);
}

function ask<T extends ControlReport['type']>(
  child: ChildProcess,
  message: ControlRequest,
  type: T,
): Promise<Extract<ControlReport, { type: T }>> {
  return new Promise((resolve) => {
    const onMessage = (report: ControlReport) => {
      if (report.type !== type) return;
      child.off('message', onMessage);
      resolve(report as Extract<ControlReport, { type: T }>);
    };
    child.on('message', onMessage);
    request(child, message);
  });
}
