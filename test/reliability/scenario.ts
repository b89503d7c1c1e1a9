// The reliability scenario: the members of one group send numbered messages through the real
// client while their sockets are cut at random and server processes are SIGKILLed and started
// again; at the end every acknowledged message must be stored exactly once, in order, and have
// reached every member exactly once, in order. The randomness is a plan drawn from a fixed seed,
// so a failing run can be replayed exactly.
import { randomBytes } from 'node:crypto';
import {
  createClient,
  MemoryKeyStore,
  type Client,
  type ReceivedMessage,
  type VerificationFailure,
} from '@parley/client';
import { decodeMessageEnvelope, fromBase64Url, toHex } from '@parley/crypto';
import fc from 'fast-check';
import {
  ackFrames,
  checkDelivery,
  checkHistory,
  checkSocketOrder,
  resendCount,
  type Acknowledgement,
  type SentMessage,
  type StoredMessage,
} from './checks';
import { createRunStorage, DEFAULT_REDIS_URL, type RunStorage } from './databases';
import { ClientNetwork, Deployment } from './network';
import { ServerProcess } from './server-process';

/** How big a run is. `pnpm test` runs a small one; the benchmark a large one. */
export interface ReliabilitySizes {
  /** Members of the group, each a client of its own. */
  members: number;
  /** Rounds of sending: in each, every member sends one numbered message. */
  rounds: number;
  /** Server processes SIGKILLed (and started again) during the run. */
  kills: number;
  /** Sockets cut at random during the run (roughly: the plan places this many cuts). */
  drops: number;
  /** Seed of the plan (where the cuts fall, how long each process stays down). */
  seed: number;
  /** Pause between rounds, in ms. */
  roundIntervalMs?: number;
}

export interface ReliabilityOptions extends ReliabilitySizes {
  engine: 'postgres' | 'pglite';
  /** 1, or 2 processes behind one PostgreSQL and Redis (engine must be postgres). */
  processes: 1 | 2;
  /** Admin URL for creating the run's database; DATABASE_URL or the local server by default. */
  databaseUrl?: string;
  redisUrl?: string;
  /** How long the end state may take to settle (every ack in, every message delivered). */
  settleTimeoutMs?: number;
  /** Progress lines (server starts, kills), for a benchmark's log. */
  log?: (line: string) => void;
}

export interface ReliabilityReport {
  engine: 'postgres' | 'pglite';
  processes: number;
  members: number;
  seed: number;
  /** Messages the members sent (each acknowledged by the end, or the run reports it). */
  sent: number;
  acknowledged: number;
  /** Messages in the stored history at the end. */
  stored: number;
  kills: number;
  /** Sockets actually cut (a cut of a client with no open socket does not count). */
  cuts: number;
  /** Messages sent again by a client (one send frame more than once). */
  resends: number;
  /** Each process start, in ms until /readyz answered (the first start included). */
  startMs: number[];
  durationMs: number;
  /** Everything that broke the guarantee; empty when the run passed. */
  problems: string[];
}

/** Runs one scenario; never throws for a broken guarantee (it is in `problems`), only for setup. */
export async function runReliability(options: ReliabilityOptions): Promise<ReliabilityReport> {
  if (options.processes === 2 && options.engine !== 'postgres') {
    throw new Error('runReliability: two processes share one PostgreSQL; use engine postgres');
  }
  const began = Date.now();
  const log = options.log ?? (() => {});
  const storage = await createRunStorage(options.engine, options.databaseUrl);
  const jwtSecret = randomBytes(36).toString('base64url');
  const redisChannelPrefix = `parley-reliability-${randomBytes(6).toString('hex')}:`;
  const servers = Array.from(
    { length: options.processes },
    () =>
      new ServerProcess({
        databaseUrl: storage.databaseUrl,
        dataDir: storage.dataDir,
        jwtSecret,
        ...(options.processes === 2
          ? { redisUrl: options.redisUrl ?? DEFAULT_REDIS_URL, redisChannelPrefix }
          : {}),
      }),
  );
  const run = new Run(options, servers, storage, log);
  try {
    return await run.execute(began);
  } finally {
    await run.tearDown();
  }
}

/** The plan of one run, drawn from the seed. */
interface Plan {
  /** Per round and member: whether that member's socket is cut right after it sends. */
  cuts: boolean[][];
  /** The rounds after which a process is killed, and for each how many rounds it stays down. */
  kills: { round: number; downRounds: number }[];
}

function drawPlan(sizes: ReliabilitySizes): Plan {
  const { members, rounds, kills, drops, seed } = sizes;
  const cells = members * rounds;
  const plan = fc.record({
    cuts: fc.uniqueArray(fc.nat(cells - 1), {
      minLength: Math.min(drops, cells),
      maxLength: Math.min(drops, cells),
    }),
    jitter: fc.array(fc.integer({ min: -1, max: 1 }), { minLength: kills, maxLength: kills }),
    down: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: kills, maxLength: kills }),
  });
  const [drawn] = fc.sample(plan, { seed, numRuns: 1 });
  const cut = new Set(drawn!.cuts);
  const spacing = rounds / (kills + 1);
  return {
    cuts: Array.from({ length: rounds }, (_, round) =>
      Array.from({ length: members }, (_, member) => cut.has(round * members + member)),
    ),
    // Evenly spread, nudged by the seed, so that live traffic runs between two kills.
    kills: drawn!.jitter.map((jitter, k) => ({
      round: Math.max(0, Math.min(rounds - 1, Math.round((k + 1) * spacing) + jitter)),
      downRounds: drawn!.down[k]!,
    })),
  };
}

interface Member {
  index: number;
  username: string;
  password: string;
  client: Client;
  network: ClientNetwork;
  received: ReceivedMessage[];
  failures: VerificationFailure[];
  sendFailures: string[];
  /** Server-acknowledged sequence number by message id. */
  acked: Map<string, number>;
}

class Run {
  private deployment!: Deployment;
  private members: Member[] = [];
  private readonly sent = new Map<string, SentMessage>();
  private restarting: Promise<void> = Promise.resolve();
  private roomId = '';

  constructor(
    private readonly options: ReliabilityOptions,
    private readonly servers: ServerProcess[],
    private readonly storage: RunStorage,
    private readonly log: (line: string) => void,
  ) {}

  async execute(began: number): Promise<ReliabilityReport> {
    const { options } = this;
    // The first process migrates the database; the second starts on a migrated one.
    for (const server of this.servers) await server.start();
    this.log(`servers ready in ${this.servers.map((s) => `${s.starts[0]} ms`).join(', ')}`);
    this.deployment = new Deployment(this.servers.map((server) => server.baseUrl));

    await this.setUpGroup(this.deployment);
    const plan = drawPlan(options);
    await this.sendWithFaults(plan);
    await this.restarting;
    const problems = await this.settleAndCheck();

    const history = await this.history(this.members[0]!);
    return {
      engine: options.engine,
      processes: options.processes,
      members: options.members,
      seed: options.seed,
      sent: this.sent.size,
      acknowledged: this.members.reduce((sum, member) => sum + member.acked.size, 0),
      stored: history.length,
      kills: this.servers.reduce((sum, server) => sum + server.kills, 0),
      cuts: this.members.reduce((sum, member) => sum + member.network.cuts, 0),
      resends: this.members.reduce((sum, member) => sum + resendCount(member.network.frames), 0),
      startMs: this.servers.flatMap((server) => server.starts),
      durationMs: Date.now() - began,
      problems,
    };
  }

  async tearDown(): Promise<void> {
    await Promise.allSettled(this.members.map((member) => member.client.close()));
    await this.restarting.catch(() => {});
    await Promise.allSettled(this.servers.map((server) => server.stop()));
    await this.storage.remove();
  }

  /** Signs the members up (each on its home process) and puts them in one group with its key. */
  private async setUpGroup(deployment: Deployment): Promise<void> {
    const { members: count } = this.options;
    this.members = await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const network = new ClientNetwork(deployment, index % this.servers.length);
        const client = await createClient({
          transport: network,
          keyStore: new MemoryKeyStore(),
          // Quick retries: a run is seconds long, and every wait shows up in its duration.
          tuning: { reconnectMs: 50, maxReconnectMs: 400, ackTimeoutMs: 1500, maxRetryMs: 3000 },
        });
        const member: Member = {
          index,
          username: `member-${index}-${randomBytes(3).toString('hex')}`,
          password: `reliability passphrase ${randomBytes(6).toString('hex')}`,
          client,
          network,
          received: [],
          failures: [],
          sendFailures: [],
          acked: new Map(),
        };
        client.on('verification-failed', (failure) => member.failures.push(failure));
        client.on('send-failed', (failure) =>
          member.sendFailures.push(`${failure.messageId}: ${failure.code} ${failure.detail}`),
        );
        client.on('acked', ({ messageId, seq }) => member.acked.set(messageId, seq));
        client.on('message', (message) => {
          if (message.roomId === this.roomId) member.received.push(message);
        });
        await client.signUp({ username: member.username, password: member.password });
        client.connect();
        await client.connected();
        return member;
      }),
    );
    const [creator, ...others] = this.members;
    const group = await creator!.client.createGroup({
      name: 'reliability',
      members: others.map((member) => member.username),
    });
    this.roomId = group.roomId;
    for (const member of others) {
      await eventually(
        async () => {
          const known = member.client.listRooms().find((room) => room.roomId === group.roomId);
          if (known?.canSend === true) return true;
          // The key frame may have gone to a socket that was not ready yet: ask once more.
          await member.client.syncRooms().catch(() => {});
          return false;
        },
        20_000,
        `${member.username} holds the group's key`,
      );
    }
  }

  /** The rounds of numbered messages, with the plan's cuts and kills in between. */
  private async sendWithFaults(plan: Plan): Promise<void> {
    const { rounds, members } = this.options;
    const interval = this.options.roundIntervalMs ?? 20;
    let killIndex = 0;
    let downUntilRound = -1;
    for (let round = 0; round < rounds; round++) {
      if (round === downUntilRound) {
        // Let the restart finish and the clients come back, so live traffic runs before the
        // next kill and no two processes of a deployment are ever down together.
        await this.restarting;
        await this.allConnected();
      }
      for (let member = 0; member < members; member++) {
        const number = round + 1;
        const sender = this.members[member]!;
        const text = `m${member}#${number}`;
        const { messageId } = await sender.client.send(this.roomId, text);
        this.sent.set(messageId, { sender: member, number, text });
        if (plan.cuts[round]![member]) sender.network.cut();
      }
      const kill = plan.kills[killIndex];
      if (kill !== undefined && kill.round === round) {
        killIndex += 1;
        await this.restarting;
        // Killed right after a burst of sends: some are committed and acknowledged, some
        // committed but not acknowledged, some not received at all.
        this.restarting = this.killAndRestart(killIndex - 1);
        downUntilRound = Math.min(rounds - 1, round + kill.downRounds);
      }
      await sleep(interval);
    }
  }

  private async killAndRestart(k: number): Promise<void> {
    const index = k % this.servers.length;
    const server = this.servers[index]!;
    this.deployment.markDown(index);
    await server.kill();
    this.log(`killed process ${index} (kill ${k + 1})`);
    await server.start();
    this.deployment.markUp(index);
    this.log(`process ${index} back in ${server.starts.at(-1)} ms`);
  }

  private async allConnected(): Promise<void> {
    const all = Promise.all(this.members.map((member) => member.client.connected()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('a client did not reconnect within 20 s of a restart')),
        20_000,
      );
    });
    try {
      await Promise.race([all, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits until every message is acknowledged and delivered everywhere, then checks it all. */
  private async settleAndCheck(): Promise<string[]> {
    const problems: string[] = [];
    const timeout = this.options.settleTimeoutMs ?? 30_000;
    const total = this.sent.size;
    const settled = await eventually(
      () =>
        this.members.every(
          (member) =>
            member.client.pendingMessages().length === 0 && member.received.length >= total,
        ),
      timeout,
      'settle',
    ).then(
      () => true,
      () => false,
    );
    if (!settled) {
      for (const member of this.members) {
        const pending = member.client.pendingMessages().length;
        if (pending > 0) problems.push(`member ${member.index}: ${pending} never acknowledged`);
        if (member.received.length < total) {
          problems.push(
            `member ${member.index}: received ${member.received.length} of ${total} in ${timeout} ms`,
          );
        }
      }
    }

    // The stored history, as each member reads it, against what was sent and acknowledged.
    const histories = await Promise.all(this.members.map((member) => this.history(member)));
    const reference = histories[0]!;
    const acknowledgements: Acknowledgement[] = this.members.flatMap((member) => [
      ...[...member.acked].map(([messageId, seq]) => ({ member: member.index, messageId, seq })),
      // Every acknowledgement on the wire, a retry's included, must name the same seq.
      ...ackFrames(member.index, member.network.frames, this.roomId),
    ]);
    problems.push(...checkHistory(reference, this.sent, acknowledgements));
    histories.forEach((history, index) => {
      if (JSON.stringify(history) !== JSON.stringify(reference)) {
        problems.push(`member ${index} reads another history than member 0`);
      }
    });

    for (const member of this.members) {
      const who = `member ${member.index}`;
      problems.push(
        ...checkDelivery(member.index, member.received, reference, this.sent, this.options.rounds),
        ...checkSocketOrder(member.index, member.network.frames, this.roomId),
        ...member.failures.map((f) => `${who}: verification failed: ${f.code} ${f.detail}`),
        ...member.sendFailures.map((failure) => `${who}: send failed: ${failure}`),
      );
    }
    return problems;
  }

  /** The room's stored history through GET /api/rooms/:id/messages, as `member` reads it. */
  private async history(member: Member): Promise<StoredMessage[]> {
    const origin = this.deployment.route(member.index % this.servers.length);
    const login = await fetch(`${origin}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: member.username, password: member.password }),
    });
    if (!login.ok) throw new Error(`history: login failed with ${login.status}`);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const out: StoredMessage[] = [];
    for (let after = 0; ;) {
      const response = await fetch(
        `${origin}/api/rooms/${this.roomId}/messages?after=${after}&limit=500`,
        { headers: { authorization: `Bearer ${accessToken}` } },
      );
      if (!response.ok) throw new Error(`history: GET messages failed with ${response.status}`);
      const page = (await response.json()) as {
        messages: { seq: number; envelope: string }[];
        more: boolean;
      };
      for (const item of page.messages) {
        const { header } = decodeMessageEnvelope(fromBase64Url(item.envelope));
        out.push({
          seq: item.seq,
          messageId: toHex(header.messageId),
          senderId: toHex(header.senderId),
          counter: header.counter,
        });
      }
      if (!page.more || page.messages.length === 0) return out;
      after = page.messages.at(-1)!.seq;
    }
  }
}

async function eventually(
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
