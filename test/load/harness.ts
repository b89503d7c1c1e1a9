// The bench: for each server under test (the bare `ws` baseline, the same with its writes corked
// per tick, Parley on PostgreSQL, Parley on PGlite) and each topology, the same load generator measures fixed offered rates and searches
// the saturation rate (the highest with p99 under the bound); then server memory per idle
// authenticated connection. Parley's figures are reported as ratios of the baseline's.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadGenerator, type StepOptions, type StepResult } from './generator';
import { createBenchDatabase, reachable, type BenchDatabase } from './postgres';
import type { ClientSpec } from './protocol';
import { startServer, type ServerProcess } from './server-process';
import type { MemorySample } from './servers/control';
import {
  anonymousMembers,
  anonymousRooms,
  createRooms,
  registerMembers,
  type BenchRoom,
  type Member,
} from './setup';

export const BASELINES = ['baseline', 'baseline-corked', 'baseline-batched'] as const;
export type Baseline = (typeof BASELINES)[number];
export type Target = Baseline | 'parley-postgres' | 'parley-pglite';

/**
 * The bare relays Parley is compared with: `baseline` writes each frame as it is made, as a
 * plain `ws` broadcast does; `baseline-corked` holds a socket's writes to the end of the tick;
 * `baseline-batched` holds every socket's frames to the end of the event loop's turn and writes
 * each socket's in one write, as Parley's relay does with a commit batch, so that Parley's
 * distance from it is the cost of everything but the framing.
 */
export function isBaseline(target: Target): target is Baseline {
  return (BASELINES as readonly Target[]).includes(target);
}

const BASELINE_WRITES: Record<Baseline, string> = {
  baseline: 'frame',
  'baseline-corked': 'tick',
  'baseline-batched': 'turn',
};

export interface Topology {
  rooms: number;
  size: number;
}

export interface BenchOptions {
  targets: Target[];
  topologies: Topology[];
  /** Offered loads of the fixed-rate steps, in deliveries per second (rate × room size). */
  fixedDeliveries: number[];
  /** The saturation search starts here (deliveries per second) and doubles. */
  searchStartDeliveries: number;
  /** Never offer more than this (deliveries per second). */
  maxDeliveries: number;
  /** Bisection steps between the last passing and the first failing rate. */
  bisections: number;
  /**
   * Measure on a fresh server process rather than the one that created the accounts and rooms,
   * so its heap has not grown doing that (memory figures are then those of a restarted server).
   */
  freshServer: boolean;
  /** Runs of a failing step before it counts as failed (0 or 1 more). */
  retries: 0 | 1;
  step: StepOptions;
  /** An unrecorded step before the first measured one, so the server's code is warm. */
  warmupMs: number;
  /** Idle connections at which server memory is sampled (empty: no memory measurement). */
  memoryConnections: number[];
  /** Load-generator threads. */
  threads: number;
  /** PostgreSQL server to create the bench database on. */
  databaseUrl: string;
  /** Write a CPU profile of each Parley server here. */
  cpuProfileDir?: string;
  log(line: string): void;
}

export interface TopologyResult {
  topology: Topology;
  clients: number;
  fixed: StepResult[];
  search: StepResult[];
  /** The highest passing step of the search (undefined: not even the lowest rate passed). */
  saturation: StepResult | undefined;
}

export interface MemoryResult {
  connections: number;
  rssBytes: number;
  rssPerConnection: number;
  heapPerConnection: number;
}

export interface TargetResult {
  target: Target;
  skipped?: string;
  topologies: TopologyResult[];
  memory: { idle: MemorySample; samples: MemoryResult[] } | undefined;
  setupMs: number;
}

export interface BenchReport {
  startedAt: string;
  durationMs: number;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; node: string; platform: string };
  options: Omit<BenchOptions, 'log' | 'databaseUrl'>;
  message: { envelopeBytes: number; textBytes: number };
  results: TargetResult[];
}

/**
 * What a run must undo if it is interrupted (a database to drop, a data directory to remove): a
 * signal skips the `finally` blocks, so `bench.ts` runs these on SIGINT and SIGTERM.
 */
const pendingCleanups = new Set<() => Promise<void>>();

export async function runPendingCleanups(): Promise<void> {
  await Promise.allSettled([...pendingCleanups].map((cleanup) => cleanup()));
}

/** Connections per account in the memory measurement (as devices of one person would). */
const SOCKETS_PER_MEMBER_FOR_MEMORY = 10;

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const started = Date.now();
  const results: TargetResult[] = [];
  for (const target of options.targets) {
    results.push(await runTarget(target, options));
  }
  const os = await import('node:os');
  return {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryBytes: os.totalmem(),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    options: { ...options, log: undefined, databaseUrl: undefined } as BenchReport['options'],
    message: { envelopeBytes: 578, textBytes: 200 },
    results,
  };
}

async function runTarget(target: Target, options: BenchOptions): Promise<TargetResult> {
  const { log } = options;
  const setupStarted = Date.now();
  let database: BenchDatabase | undefined;
  let dataDir: string | undefined;
  let env: NodeJS.ProcessEnv = {};
  if (target === 'parley-postgres') {
    if (!(await reachable(options.databaseUrl))) {
      const skipped = `no PostgreSQL answers at DATABASE_URL (${redact(options.databaseUrl)})`;
      log(`${target}: skipped, ${skipped}`);
      return { target, skipped, topologies: [], memory: undefined, setupMs: 0 };
    }
    database = await createBenchDatabase(options.databaseUrl);
    pendingCleanups.add(database.drop);
    env = { DATABASE_URL: database.url };
  } else if (target === 'parley-pglite') {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-'));
    pendingCleanups.add(removeDataDir);
    env = { DATA_DIR: dataDir, DATABASE_URL: '' };
  }
  if (isBaseline(target)) env = { BASELINE_WRITES: BASELINE_WRITES[target] };
  if (!isBaseline(target)) {
    env = {
      ...env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      JWT_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url'),
      ACCESS_TOKEN_TTL_SECONDS: '7200',
      RATE_LIMIT_AUTH_PER_IP_PER_MINUTE: '1000000',
      // The bench offers its load from a few clients, far above one person's message rate.
      WS_MESSAGES_PER_10_SECONDS_PER_SOCKET: '1000000',
      WS_MESSAGES_PER_10_SECONDS_PER_ACCOUNT: '1000000',
      WS_MAX_PENDING_SENDS: '1000000',
      // Up to 10,000 sockets from this one address, most of them opened at once.
      MAX_CONNECTIONS: '100000',
      MAX_CONNECTIONS_PER_IP: '100000',
      WS_MAX_SOCKETS_PER_IP: '100000',
      WS_MAX_UNAUTHENTICATED: '100000',
      REDIS_URL: '',
    };
  }

  async function removeDataDir(): Promise<void> {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  }

  let server: ServerProcess | undefined;
  try {
    // Accounts and rooms first; with `freshServer` that server is then replaced by a fresh
    // process, so the measured one has not grown its heap creating accounts.
    const memberCount = Math.max(
      ...options.topologies.map((t) => t.rooms * t.size),
      ...options.memoryConnections.map((n) => Math.ceil(n / SOCKETS_PER_MEMBER_FOR_MEMORY)),
    );
    const roomsOf = new Map<Topology, BenchRoom[]>();
    let members: Member[];
    if (isBaseline(target)) {
      members = await anonymousMembers(memberCount);
      for (const t of options.topologies) roomsOf.set(t, anonymousRooms(members, t.rooms, t.size));
    } else {
      server = await startServer('parley', { env });
      log(`${target}: registering ${memberCount} accounts`);
      members = await registerMembers(server.httpUrl, memberCount);
      for (const t of options.topologies) {
        log(`${target}: creating ${t.rooms} room(s) of ${t.size}`);
        roomsOf.set(t, await createRooms(server.httpUrl, members, t.rooms, t.size));
      }
      if (options.freshServer) {
        await server.stop();
        server = undefined;
      }
    }
    const memoryRooms = isBaseline(target)
      ? anonymousRooms(members, Math.ceil(members.length / 10), 10)
      : await maybeMemoryRooms(options, members, roomsOf);

    server ??= await startServer(isBaseline(target) ? 'baseline' : 'parley', { env });
    const setupMs = Date.now() - setupStarted;
    const generator = await LoadGenerator.start(server.wsUrl, options.threads);
    try {
      const memory =
        options.memoryConnections.length === 0
          ? undefined
          : await measureMemory(target, server, generator, memoryRooms, options);
      const topologies: TopologyResult[] = [];
      for (const topology of options.topologies) {
        topologies.push(
          await runTopology(target, generator, server, roomsOf.get(topology)!, topology, options),
        );
      }
      return { target, topologies, memory, setupMs };
    } finally {
      await generator.close();
    }
  } finally {
    await server?.stop();
    if (database !== undefined) {
      await database.drop();
      pendingCleanups.delete(database.drop);
    }
    await removeDataDir();
    pendingCleanups.delete(removeDataDir);
  }
}

/** Parley's memory measurement subscribes each socket to a room of 10 of the topologies'. */
async function maybeMemoryRooms(
  options: BenchOptions,
  members: Member[],
  roomsOf: Map<Topology, BenchRoom[]>,
): Promise<BenchRoom[]> {
  const tens = options.topologies.find((t) => t.size === 10 && t.rooms * t.size >= members.length);
  if (tens !== undefined) return roomsOf.get(tens)!;
  // Without a topology of rooms of ten covering everyone, sockets subscribe to the widest room.
  const widest = [...roomsOf.values()].flat().sort((a, b) => b.members.length - a.members.length);
  return widest.slice(0, 1);
}

async function measureMemory(
  target: Target,
  server: ServerProcess,
  generator: LoadGenerator,
  rooms: BenchRoom[],
  options: BenchOptions,
): Promise<{ idle: MemorySample; samples: MemoryResult[] }> {
  const { log } = options;
  const sockets: ClientSpec[] = [];
  for (let copy = 0; copy < SOCKETS_PER_MEMBER_FOR_MEMORY; copy++) {
    for (const room of rooms) {
      for (const member of room.members) {
        sockets.push({
          member,
          room,
          roomSize: room.members.length * SOCKETS_PER_MEMBER_FOR_MEMORY,
        });
      }
    }
  }
  // Load the code paths once (handshake, auth, subscribe), then measure from an idle server.
  await generator.connect(sockets.slice(0, 50));
  await generator.disconnect();
  await sleep(500);
  const idle = await server.memory();
  const samples: MemoryResult[] = [];
  let open = 0;
  for (const connections of [...options.memoryConnections].sort((a, b) => a - b)) {
    const batch = sockets.slice(open, connections);
    if (batch.length < connections - open) {
      throw new RangeError(`measureMemory: only ${sockets.length} sockets for ${connections}`);
    }
    const opened = await generator.connect(batch);
    open = connections;
    if (opened !== connections)
      throw new Error(`measureMemory: ${opened} of ${connections} opened`);
    await sleep(1000);
    const sample = await server.memory();
    const result: MemoryResult = {
      connections,
      rssBytes: sample.rss,
      rssPerConnection: (sample.rss - idle.rss) / connections,
      heapPerConnection: (sample.heapUsed - idle.heapUsed) / connections,
    };
    samples.push(result);
    log(
      `${target}: ${connections} idle connections: RSS ${mib(sample.rss)} MiB, ` +
        `${kib(result.rssPerConnection)} KiB each (heap ${kib(result.heapPerConnection)} KiB)`,
    );
  }
  await generator.disconnect();
  return { idle, samples };
}

async function runTopology(
  target: Target,
  generator: LoadGenerator,
  server: ServerProcess,
  rooms: BenchRoom[],
  topology: Topology,
  options: BenchOptions,
): Promise<TopologyResult> {
  const { log } = options;
  const name = `${topology.rooms}×${topology.size}`;
  const clients: ClientSpec[] = rooms.flatMap((room) =>
    room.members.map((member) => ({ member, room, roomSize: room.members.length })),
  );
  const open = await generator.connect(clients);
  if (open !== clients.length)
    throw new Error(`${name}: ${open} of ${clients.length} clients opened`);
  const rateOf = (deliveries: number) => deliveries / topology.size;
  try {
    // Warm-up (not recorded): the server's and the generator's hot paths get compiled.
    await generator.step(rateOf(options.searchStartDeliveries), {
      ...options.step,
      durationMs: options.warmupMs,
    });
    if (options.cpuProfileDir !== undefined) server.profileStart();
    const fixed: StepResult[] = [];
    for (const deliveries of options.fixedDeliveries) {
      const result = await measuredStep(generator, rateOf(deliveries), options, server.pid);
      log(`${target} ${name} fixed ${describe(result)}`);
      fixed.push(result);
    }
    const { search, saturation } = await findSaturation(
      generator,
      server.pid,
      topology,
      options,
      (result) => log(`${target} ${name} search ${describe(result)}`),
    );
    if (options.cpuProfileDir !== undefined) {
      await mkdir(options.cpuProfileDir, { recursive: true });
      const path = join(options.cpuProfileDir, `${target}-${name.replace('×', 'x')}.cpuprofile`);
      await server.profileStop(path);
      log(`${target} ${name}: CPU profile in ${path}`);
    }
    return { topology, clients: clients.length, fixed, search, saturation };
  } finally {
    await generator.disconnect();
  }
}

/**
 * A step, run once more if it fails: on a small shared machine one scheduling hiccup of another
 * process can push a p99 over the bound, and a rate should fail because of the server under
 * test. Both servers get the same second chance; the better of the two runs is kept.
 */
async function measuredStep(
  generator: LoadGenerator,
  rate: number,
  options: BenchOptions,
  serverPid: number,
): Promise<StepResult> {
  const first = await generator.step(rate, options.step, serverPid);
  if (first.pass || options.retries === 0) return first;
  const second = await generator.step(rate, options.step, serverPid);
  return second.pass || second.p99 < first.p99
    ? { ...second, retried: true }
    : { ...first, retried: true };
}

/**
 * Doubles the offered rate while steps pass, then bisects between the last passing and the first
 * failing rate. If the starting rate fails, halves until one passes.
 */
async function findSaturation(
  generator: LoadGenerator,
  serverPid: number,
  topology: Topology,
  options: BenchOptions,
  onStep: (result: StepResult) => void,
): Promise<{ search: StepResult[]; saturation: StepResult | undefined }> {
  const search: StepResult[] = [];
  const run = async (rate: number) => {
    const result = await measuredStep(generator, rate, options, serverPid);
    onStep(result);
    search.push(result);
    return result;
  };
  const maxRate = options.maxDeliveries / topology.size;
  const minRate = 1;
  let best: StepResult | undefined;
  let failing: number | undefined;
  let rate = options.searchStartDeliveries / topology.size;
  for (;;) {
    const result = await run(rate);
    if (result.pass) {
      best = result;
      if (failing !== undefined || rate >= maxRate) break;
      rate = Math.min(maxRate, rate * 2);
    } else {
      failing = rate;
      if (best !== undefined || rate <= minRate) break;
      rate = Math.max(minRate, rate / 2);
    }
  }
  if (best !== undefined && failing !== undefined) {
    let low = best.rate;
    let high = failing;
    for (let i = 0; i < options.bisections; i++) {
      const mid = Math.round((low + high) / 2);
      if (mid <= low || mid >= high) break;
      const result = await run(mid);
      if (result.pass) {
        best = result;
        low = mid;
      } else {
        high = mid;
      }
    }
  }
  return { search, saturation: best };
}

export function describe(result: StepResult): string {
  const flags = [
    result.lost > 0 ? `lost ${result.lost}` : '',
    Object.keys(result.errors).length > 0 ? `errors ${JSON.stringify(result.errors)}` : '',
    Object.keys(result.closes).length > 0 ? `closes ${JSON.stringify(result.closes)}` : '',
  ].filter((flag) => flag !== '');
  const cpu =
    result.cpu === undefined
      ? ''
      : `, cores: server ${result.cpu.server.toFixed(2)} generator ` +
        `${result.cpu.generator.toFixed(2)} postgres ${result.cpu.database.toFixed(2)} ` +
        `other ${result.cpu.other.toFixed(2)}`;
  return (
    `${Math.round(result.rate)} msg/s → ${Math.round(result.deliveredPerSecond)} deliveries/s, ` +
    `p50 ${ms(result.p50)} p99 ${ms(result.p99)} ms, ack p99 ${ms(result.ackP99)} ms${cpu} ` +
    `${result.pass ? 'pass' : 'FAIL'}${flags.length > 0 ? ` (${flags.join(', ')})` : ''}`
  );
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : '∞';
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an unparsable URL';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
