// The people and rooms a bench run needs, made through Parley's REST API the way clients make
// them: accounts registered, identity and encryption keys published with a signed binding, rooms
// created from a signed genesis entry and grown with signed `add` entries.
import {
  createGenesis,
  createMembershipEntry,
  encryptionKeyPair,
  fromHex,
  generateIdentity,
  generateRoomKey,
  identityKeyPair,
  membershipEntryHash,
  ready,
  signEncryptionKey,
  toBase64Url,
  toHex,
} from '@parley/crypto';

/** A bench participant: what the load generator needs to authenticate and to sign messages. */
export interface Member {
  id: string;
  token: string;
  identitySeed: Uint8Array;
}

/** A room as the generator knows it: its id, members and the epoch-0 key messages use. */
export interface BenchRoom {
  id: string;
  members: Member[];
  roomKey: Uint8Array;
}

/** Participants for the baseline, which checks nothing: random ids, no token. */
export async function anonymousMembers(count: number): Promise<Member[]> {
  await ready();
  return Array.from({ length: count }, () => ({
    id: toHex(crypto.getRandomValues(new Uint8Array(16))),
    token: 'baseline',
    identitySeed: generateIdentity().identitySeed,
  }));
}

/** Rooms for the baseline: ids and keys only, since it keeps no membership. */
export function anonymousRooms(members: Member[], rooms: number, size: number): BenchRoom[] {
  return Array.from({ length: rooms }, (_, r) => ({
    id: toHex(crypto.getRandomValues(new Uint8Array(16))),
    members: members.slice(r * size, (r + 1) * size),
    roomKey: generateRoomKey(),
  }));
}

/** Registers `count` accounts and publishes keys for each, `concurrency` at a time. */
export async function registerMembers(
  baseUrl: string,
  count: number,
  concurrency = 8,
): Promise<Member[]> {
  await ready();
  const run = crypto.getRandomValues(new Uint8Array(3));
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const username = `bench-${toHex(run)}-${i}`;
      const auth = await api<{ accessToken: string; user: { id: string } }>(
        baseUrl,
        'POST',
        '/api/auth/register',
        {
          body: { username, password: `correct horse battery ${toHex(run)} ${i}` },
        },
      );
      const seeds = generateIdentity();
      const identity = identityKeyPair(seeds.identitySeed);
      const encryption = encryptionKeyPair(seeds.encryptionSeed);
      const signature = signEncryptionKey(identity, {
        userId: fromHex(auth.user.id),
        encryptionPublicKey: encryption.publicKey,
        version: 1,
      });
      await api(baseUrl, 'PUT', '/api/me/keys', {
        token: auth.accessToken,
        body: {
          identityKey: toBase64Url(identity.publicKey),
          encryptionKey: toBase64Url(encryption.publicKey),
          version: 1,
          signature: toBase64Url(signature),
        },
      });
      return { id: auth.user.id, token: auth.accessToken, identitySeed: seeds.identitySeed };
    },
  );
}

/**
 * Creates `rooms` private groups of `size` members each (members taken in order from `members`,
 * wrapping around), the first member of each as the admin who adds the others one entry at a time.
 */
export async function createRooms(
  baseUrl: string,
  members: Member[],
  rooms: number,
  size: number,
  concurrency = 8,
): Promise<BenchRoom[]> {
  await ready();
  return mapLimit(
    Array.from({ length: rooms }, (_, r) => r),
    concurrency,
    async (r) => {
      const people = Array.from(
        { length: size },
        (_, i) => members[(r * size + i) % members.length]!,
      );
      const admin = people[0]!;
      const actor = identityKeyPair(admin.identitySeed);
      const roomId = crypto.getRandomValues(new Uint8Array(16));
      const adminId = fromHex(admin.id);
      let entry = createGenesis({ roomId, kind: 'group', actorId: adminId, actor });
      await api(baseUrl, 'POST', '/api/rooms', {
        token: admin.token,
        body: { genesis: toBase64Url(entry), name: `bench ${r}` },
      });
      for (let position = 1; position < people.length; position++) {
        entry = createMembershipEntry({
          roomId,
          previous: { position: position - 1, hash: membershipEntryHash(entry) },
          actorId: adminId,
          actor,
          op: 'add',
          subjectId: fromHex(people[position]!.id),
        });
        await api(baseUrl, 'POST', `/api/rooms/${toHex(roomId)}/chain`, {
          token: admin.token,
          body: { entry: toBase64Url(entry) },
        });
      }
      return { id: toHex(roomId), members: people, roomKey: generateRoomKey() };
    },
  );
}

/** Runs `task` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

export class BenchSetupError extends Error {
  override readonly name = 'BenchSetupError';
  readonly code = 'BENCH_SETUP_FAILED';
}

async function api<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown },
): Promise<T> {
  const response = await fetch(baseUrl + path, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    },
    body: JSON.stringify(options.body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new BenchSetupError(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}
