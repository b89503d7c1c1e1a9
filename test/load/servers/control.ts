// The bench's side of a server child process: report the port once listening, answer memory
// probes (after a full garbage collection, so RSS reflects live objects rather than garbage),
// record CPU profiles of chosen windows (V8's sampling profiler through the inspector), and stop
// on request. Both servers under test load this, so they are measured the same way.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** Messages the bench sends a server child. */
export type ControlRequest =
  | { type: 'memory' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; path: string }
  | { type: 'stop' };

/** Messages a server child sends the bench. */
export type ControlReport =
  | { type: 'listening'; port: number }
  | { type: 'memory'; memory: MemorySample }
  | { type: 'profiled'; path: string }
  | { type: 'failed'; message: string };

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Wires the IPC channel of a server child: `stop` runs `close` and exits. */
export function serveControl(port: number, close: () => Promise<void>): void {
  const send = (report: ControlReport) => process.send?.(report);
  process.on('message', (request: ControlRequest) => {
    if (request.type === 'memory') {
      void sampleMemory().then((memory) => send({ type: 'memory', memory }));
    } else if (request.type === 'profile-start') {
      void startProfile();
    } else if (request.type === 'profile-stop') {
      void stopProfile(request.path).then(() => send({ type: 'profiled', path: request.path }));
    } else if (request.type === 'stop') {
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    }
  });
  // The bench going away (crash, Ctrl-C) must not leave a server behind.
  process.on('disconnect', () => {
    void close().finally(() => process.exit(0));
  });
  send({ type: 'listening', port });
}

export function reportFailure(error: unknown): never {
  process.send?.({ type: 'failed', message: String((error as Error)?.stack ?? error) });
  process.exit(1);
}

async function sampleMemory(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice with a pause: the second pass collects what the first one's finalizers released.
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers };
}

let profiler: Session | undefined;

async function startProfile(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  // 200 µs between samples: fine enough for per-message costs, cheap enough not to skew them.
  await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  await profiler.post('Profiler.start');
}

async function stopProfile(path: string): Promise<void> {
  if (profiler === undefined) return;
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  await writeFile(path, JSON.stringify(profile));
}
