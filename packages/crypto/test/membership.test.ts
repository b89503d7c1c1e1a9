import fc from 'fast-check';
import sodium from 'libsodium-wrappers-sumo';
import { describe, expect, it } from 'vitest';
import {
  ascii,
  canon,
  createGenesis,
  createMembershipEntry,
  decodeMembershipEntry,
  identityKeyPair,
  isMemberAtEpoch,
  mayDistribute,
  membershipEntryHash,
  toHex,
  u64,
  applyMembershipRule,
  verifyMembershipChain,
  verifyMembershipEntrySignature,
  type IdentityKeyPair,
  type MembershipOp,
  type MembershipState,
  type RoomKind,
} from '../src/index';
import {
  bytes,
  expectCode,
  fieldOf,
  flipArbitrary,
  flipByte,
  flippedU64,
  locate,
  outcome,
} from './helpers';

const roomId = bytes(16, 0x70);
const users = Object.fromEntries(
  ['alice', 'bob', 'carol', 'dave'].map((name, i) => [
    name,
    { id: bytes(16, 0x10 * (i + 1)), keys: identityKeyPair(bytes(32, 0x20 + i)) },
  ]),
) as Record<'alice' | 'bob' | 'carol' | 'dave', { id: Uint8Array; keys: IdentityKeyPair }>;
type Name = keyof typeof users;
const keyOf = (id: Uint8Array) =>
  Object.values(users).find((u) => sodium.memcmp(u.id, id))?.keys.publicKey;

/** Builds a chain from a script of [actor, op, subject] after a genesis by `creator`. */
function chain(
  kind: RoomKind,
  creator: Name,
  script: [Name, Exclude<MembershipOp, 'genesis'>, Name, number?][],
  peer?: Name,
) {
  const entries = [
    createGenesis({
      roomId,
      kind,
      actorId: users[creator].id,
      actor: users[creator].keys,
      ...(peer === undefined ? {} : { peerId: users[peer].id }),
    }),
  ];
  for (const [actor, op, subject, timer] of script) {
    const previous = entries.at(-1)!;
    entries.push(
      createMembershipEntry({
        roomId,
        previous: { position: entries.length - 1, hash: membershipEntryHash(previous) },
        actorId: users[actor].id,
        actor: users[actor].keys,
        op,
        subjectId: users[subject].id,
        ...(timer === undefined ? {} : { timer }),
      }),
    );
  }
  return entries;
}

function roles(state: MembershipState): Record<string, string> {
  const names = Object.fromEntries(Object.entries(users).map(([name, u]) => [toHex(u.id), name]));
  return Object.fromEntries([...state.members].map(([id, role]) => [names[id]!, role]));
}

/** Signs an arbitrary body, for entries the library refuses to create. */
function rawEntry(fields: {
  position: number;
  prevHash: Uint8Array;
  actor: Name;
  op: string;
  subjectId: Uint8Array;
  data?: Uint8Array;
  room?: Uint8Array;
  signer?: Name;
  label?: string;
}): Uint8Array {
  const body = canon(fields.label ?? 'parley/v1/membership', [
    fields.room ?? roomId,
    u64(fields.position),
    fields.prevHash,
    users[fields.actor].id,
    ascii(fields.op),
    fields.subjectId,
    fields.data ?? new Uint8Array(),
  ]);
  const signature = sodium.crypto_sign_detached(
    body,
    users[fields.signer ?? fields.actor].keys.secretKey,
  );
  return canon('parley/v1/membership-entry', [body, signature]);
}

const group = chain('group', 'alice', [
  ['alice', 'add', 'bob'],
  ['alice', 'add', 'carol'],
  ['alice', 'promote', 'bob'],
  ['bob', 'remove', 'carol'],
  ['alice', 'demote', 'bob'],
  ['bob', 'leave', 'bob'],
]);

describe('membership chain', () => {
  it('replays a group chain into the state after every position', () => {
    const states = verifyMembershipChain(group, roomId, keyOf);
    expect(states.map((s) => s.position)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(states.map((s) => s.epoch)).toEqual([0, 0, 0, 0, 1, 1, 2]);
    expect(states.map(roles)).toEqual([
      { alice: 'admin' },
      { alice: 'admin', bob: 'member' },
      { alice: 'admin', bob: 'member', carol: 'member' },
      { alice: 'admin', bob: 'admin', carol: 'member' },
      { alice: 'admin', bob: 'admin' },
      { alice: 'admin', bob: 'member' },
      { alice: 'admin' },
    ]);
    expect(states.map((s) => toHex(s.hash))).toEqual(
      group.map((e) => toHex(membershipEntryHash(e))),
    );
    expect(states.every((s) => s.kind === 'group')).toBe(true);
  });

  it('hashes canon("parley/v1/membership-hash", entry)', () => {
    expect(membershipEntryHash(group[0]!)).toEqual(
      sodium.crypto_generichash(32, canon('parley/v1/membership-hash', [group[0]!]), null),
    );
  });

  it('checks one entry on its own, as the server does before storing it', () => {
    const add = decodeMembershipEntry(group[1]!);
    expect(verifyMembershipEntrySignature(add, users.alice.keys.publicKey)).toBe(true);
    expect(verifyMembershipEntrySignature(add, users.bob.keys.publicKey)).toBe(false);
    const admins = new Map([[toHex(users.alice.id), 'admin' as const]]);
    expect(applyMembershipRule(add, 'group', admins)).toBe('ok');
    expect(admins.get(toHex(users.bob.id))).toBe('member');
    const members = new Map([[toHex(users.alice.id), 'member' as const]]);
    expect(applyMembershipRule(add, 'group', members)).toBe('not-allowed');
    expect(members.size).toBe(1);
  });

  it('decodes entries', () => {
    const entry = decodeMembershipEntry(group[1]!);
    expect(entry).toMatchObject({
      roomId,
      position: 1,
      op: 'add',
      actorId: users.alice.id,
      subjectId: users.bob.id,
    });
    expect(entry.prevHash).toEqual(membershipEntryHash(group[0]!));
    expect(decodeMembershipEntry(group[0]!).subjectId.length).toBe(0);
  });

  it('lets any channel member admit newcomers', () => {
    const states = verifyMembershipChain(
      chain('channel', 'alice', [
        ['alice', 'admit', 'bob'],
        ['bob', 'admit', 'carol'],
        ['carol', 'leave', 'carol'],
      ]),
      roomId,
      keyOf,
    );
    expect(roles(states[2]!)).toEqual({ alice: 'admin', bob: 'member', carol: 'member' });
    expect(states[3]!.epoch).toBe(1);
  });

  it('makes a direct conversation of two members where only leaving follows', () => {
    const states = verifyMembershipChain(
      chain('direct', 'alice', [['bob', 'leave', 'bob']], 'bob'),
      roomId,
      keyOf,
    );
    expect(roles(states[0]!)).toEqual({ alice: 'member', bob: 'member' });
    expect(roles(states[1]!)).toEqual({ alice: 'member' });
    expect(states[1]!.epoch).toBe(1);
  });

  it('allows promoting an admin (no change), as §5.2 reads', () => {
    const states = verifyMembershipChain(
      chain('group', 'alice', [['alice', 'promote', 'alice']]),
      roomId,
      keyOf,
    );
    expect(roles(states[1]!)).toEqual({ alice: 'admin' });
  });

  it('returns no states for an empty chain', () => {
    expect(verifyMembershipChain([], roomId, keyOf)).toEqual([]);
  });

  describe('rejects, naming the failing entry', () => {
    const failsAt = (
      entries: Uint8Array[],
      code: Parameters<typeof expectCode>[1],
      position: number,
    ) => {
      const error = expectCode(() => verifyMembershipChain(entries, roomId, keyOf), code);
      expect(error.position).toBe(position);
      expect(error.message).toMatch(/^verifyMembershipChain: entry \d+: /);
    };
    const base = chain('group', 'alice', [['alice', 'add', 'bob']]);
    const h = (i: number) => membershipEntryHash(base[i]!);
    type EntryFields = Parameters<typeof rawEntry>[0];
    // The chains below are `base` with its last entry rebuilt and one field of it changed.
    const bobAdded = (changed: Partial<EntryFields>) => [
      base[0]!,
      rawEntry({
        position: 1,
        prevHash: h(0),
        actor: 'alice',
        op: 'add',
        subjectId: users.bob.id,
        ...changed,
      }),
    ];
    const bobLeaves = (changed: Partial<EntryFields>) => [
      ...base,
      rawEntry({
        position: 2,
        prevHash: h(1),
        actor: 'bob',
        op: 'leave',
        subjectId: users.bob.id,
        ...changed,
      }),
    ];

    it('malformed entries and entries of another room', () => {
      failsAt([...base, base[1]!.subarray(1)], 'CHAIN_MALFORMED', 2);
      failsAt(bobAdded({ room: bytes(16, 1) }), 'CHAIN_MALFORMED', 1);
      failsAt(bobAdded({ subjectId: new Uint8Array() }), 'CHAIN_MALFORMED', 1);
      failsAt(bobAdded({ data: bytes(1, 0) }), 'CHAIN_MALFORMED', 1);
      failsAt(bobAdded({ prevHash: bytes(31, 0) }), 'CHAIN_MALFORMED', 1);
    });

    it('unknown entry types', () => {
      failsAt(bobAdded({ op: 'ban' }), 'CHAIN_UNKNOWN_ENTRY_TYPE', 1);
    });

    it('forks: a second entry at a position already taken', () => {
      const other = rawEntry({
        position: 1,
        prevHash: h(0),
        actor: 'alice',
        op: 'add',
        subjectId: users.carol.id,
      });
      failsAt([...base, other], 'CHAIN_FORK', 2);
      failsAt([...base, base[1]!], 'CHAIN_FORK', 2);
    });

    it('broken links: a skipped position or a wrong prevHash', () => {
      failsAt(bobAdded({ position: 2 }), 'CHAIN_BROKEN_LINK', 1);
      failsAt(bobAdded({ prevHash: bytes(32, 0) }), 'CHAIN_BROKEN_LINK', 1);
      failsAt(bobAdded({ prevHash: new Uint8Array() }), 'CHAIN_BROKEN_LINK', 1);
    });

    it('bad genesis entries', () => {
      const policy = (kind: string, peer: Uint8Array = new Uint8Array()) =>
        canon('parley/v1/room-policy', [ascii(kind), peer]);
      const genesis = (over: Partial<Parameters<typeof rawEntry>[0]>) =>
        rawEntry({
          position: 0,
          prevHash: new Uint8Array(),
          actor: 'alice',
          op: 'genesis',
          subjectId: new Uint8Array(),
          data: policy('group'),
          ...over,
        });
      expect(verifyMembershipChain([genesis({})], roomId, keyOf)).toHaveLength(1);
      failsAt([base[1]!], 'CHAIN_BAD_GENESIS', 0);
      failsAt([genesis({ position: 1 })], 'CHAIN_BAD_GENESIS', 0);
      failsAt([genesis({ prevHash: bytes(32, 1) })], 'CHAIN_BAD_GENESIS', 0);
      failsAt([genesis({ subjectId: users.bob.id })], 'CHAIN_BAD_GENESIS', 0);
      failsAt([genesis({ data: policy('forum') })], 'CHAIN_BAD_GENESIS', 0);
      failsAt([genesis({ data: policy('group', users.bob.id) })], 'CHAIN_BAD_GENESIS', 0);
      failsAt([genesis({ data: policy('direct') })], 'CHAIN_BAD_GENESIS', 0);
      failsAt([genesis({ data: policy('direct', users.alice.id) })], 'CHAIN_BAD_GENESIS', 0);
      failsAt([genesis({ data: bytes(3, 0) })], 'CHAIN_BAD_GENESIS', 0);
    });

    it('unknown actors and bad signatures', () => {
      const stranger = identityKeyPair(bytes(32, 0x99));
      const strangerId = bytes(16, 0x99);
      const body = canon('parley/v1/membership', [
        roomId,
        u64(2),
        h(1),
        strangerId,
        ascii('leave'),
        strangerId,
        new Uint8Array(),
      ]);
      const entry = canon('parley/v1/membership-entry', [
        body,
        sodium.crypto_sign_detached(body, stranger.secretKey),
      ]);
      failsAt([...base, entry], 'CHAIN_UNKNOWN_ACTOR', 2);
      failsAt(bobLeaves({ signer: 'alice' }), 'CHAIN_BAD_SIGNATURE', 2);
      failsAt(bobLeaves({ label: 'parley/v1/membershiq' }), 'CHAIN_MALFORMED', 2);
    });

    it('actions the rules do not allow', () => {
      const notAllowed = (kind: RoomKind, script: Parameters<typeof chain>[2], peer?: Name) =>
        failsAt(chain(kind, 'alice', script, peer), 'CHAIN_ACTOR_NOT_ALLOWED', script.length);
      notAllowed('group', [
        ['alice', 'add', 'bob'],
        ['bob', 'add', 'carol'],
      ]); // not an admin
      notAllowed('group', [
        ['alice', 'add', 'bob'],
        ['bob', 'admit', 'carol'],
      ]); // admit only in channels
      notAllowed('group', [
        ['alice', 'add', 'bob'],
        ['alice', 'add', 'bob'],
      ]); // already a member
      notAllowed('group', [['alice', 'remove', 'alice']]); // removing oneself
      notAllowed('group', [['alice', 'remove', 'bob']]); // not a member
      notAllowed('group', [['alice', 'demote', 'alice']]); // demoting oneself
      notAllowed('group', [
        ['alice', 'add', 'bob'],
        ['alice', 'demote', 'bob'],
      ]); // not an admin to demote
      notAllowed('group', [['alice', 'promote', 'bob']]); // promoting a non-member
      notAllowed('group', [['bob', 'leave', 'bob']]); // leaving without being a member
      notAllowed('group', [['carol', 'add', 'dave']]); // an outsider acting
      notAllowed('channel', [
        ['alice', 'admit', 'bob'],
        ['bob', 'remove', 'alice'],
      ]); // member removing
      notAllowed('channel', [['dave', 'admit', 'carol']]); // outsider admitting
      notAllowed('direct', [['alice', 'add', 'carol']], 'bob'); // direct: only leave
      notAllowed('direct', [['alice', 'promote', 'bob']], 'bob');
      const h0 = membershipEntryHash(group[0]!);
      const leaveOther = rawEntry({
        position: 1,
        prevHash: h0,
        actor: 'alice',
        op: 'leave',
        subjectId: users.bob.id,
      });
      failsAt([group[0]!, leaveOther], 'CHAIN_ACTOR_NOT_ALLOWED', 1);
      const secondGenesis = rawEntry({
        position: 1,
        prevHash: h0,
        actor: 'alice',
        op: 'genesis',
        subjectId: new Uint8Array(),
        data: canon('parley/v1/room-policy', [ascii('group'), new Uint8Array()]),
      });
      failsAt([group[0]!, secondGenesis], 'CHAIN_ACTOR_NOT_ALLOWED', 1);
    });

    it('a chain that differs from a checkpoint, or ends before it', () => {
      const states = verifyMembershipChain(group, roomId, keyOf);
      const checkpoint = { position: 1, hash: states[1]!.hash };
      expect(verifyMembershipChain(group, roomId, keyOf, checkpoint)).toHaveLength(group.length);
      const other = chain('group', 'alice', [['alice', 'add', 'carol']]);
      const fork = expectCode(
        () => verifyMembershipChain(other, roomId, keyOf, checkpoint),
        'CHAIN_FORK',
      );
      expect(fork.position).toBe(1);
      const rollback = expectCode(
        () => verifyMembershipChain(group.slice(0, 1), roomId, keyOf, checkpoint),
        'CHAIN_FORK',
      );
      expect(rollback.position).toBe(1);
    });

    it('does not check entries up to a checkpoint against today’s keys, only after it', () => {
      const states = verifyMembershipChain(group, roomId, keyOf);
      const checkpoint = { position: 1, hash: states[1]!.hash };
      // Alice changed identity keys since (an identity reset): her entries 0 and 1 were verified
      // before under the old key; later entries must verify under the new one.
      const changed = (id: Uint8Array) =>
        sodium.memcmp(id, users.alice.id) ? users.dave.keys.publicKey : keyOf(id);
      expectCode(() => verifyMembershipChain(group, roomId, changed), 'CHAIN_BAD_SIGNATURE');
      const third = expectCode(
        () => verifyMembershipChain(group.slice(0, 3), roomId, changed, checkpoint),
        'CHAIN_BAD_SIGNATURE',
      );
      expect(third.position).toBe(2);
      expect(verifyMembershipChain(group.slice(0, 2), roomId, changed, checkpoint)).toHaveLength(2);
      // The prefix is still bound by its hash: another entry there is a fork, whoever signed it.
      const other = chain('group', 'alice', [['alice', 'add', 'carol']]);
      expectCode(() => verifyMembershipChain(other, roomId, changed, checkpoint), 'CHAIN_FORK');
    });
  });

  it('rejects every flipped byte with the code of the field it lands in', () => {
    const entries = group.slice(0, 4);
    const target = 2;
    const entry = entries[target]!;
    const body = fieldOf(entry, 0);
    const codeFor = (index: number, mask: number): string => {
      const outer = locate(entry, index);
      if (outer.field === -1) return 'CHAIN_MALFORMED';
      if (outer.field === 1) return 'CHAIN_BAD_SIGNATURE';
      const inner = locate(body, outer.offset);
      switch (inner.field) {
        case -1:
          return 'CHAIN_MALFORMED';
        case 0:
          return 'CHAIN_MALFORMED'; // another room
        case 1: {
          const position = flippedU64(fieldOf(body, 1), inner.offset, mask);
          if (position === undefined) return 'CHAIN_MALFORMED';
          return position <= target - 1 ? 'CHAIN_FORK' : 'CHAIN_BROKEN_LINK';
        }
        case 2:
          return 'CHAIN_BROKEN_LINK';
        case 3:
          return 'CHAIN_UNKNOWN_ACTOR';
        case 4:
          return 'CHAIN_UNKNOWN_ENTRY_TYPE';
        default:
          return 'CHAIN_BAD_SIGNATURE'; // subject (data is empty here)
      }
    };
    fc.assert(
      fc.property(flipArbitrary(entry.length), ({ index, mask }) => {
        const tampered = entries.map((e, i) => (i === target ? flipByte(e, index, mask) : e));
        const expected = codeFor(index, mask);
        let position: number | undefined;
        const got = outcome(() => {
          try {
            verifyMembershipChain(tampered, roomId, keyOf);
          } catch (error) {
            position = (error as { position?: number }).position;
            throw error;
          }
        });
        expect(got).toBe(expected);
        expect(position).toBe(target);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every flipped byte of a genesis entry', () => {
    const genesis = group[0]!;
    fc.assert(
      fc.property(flipArbitrary(genesis.length), ({ index, mask }) => {
        const code = outcome(() =>
          verifyMembershipChain([flipByte(genesis, index, mask)], roomId, keyOf),
        );
        expect([
          'CHAIN_MALFORMED',
          'CHAIN_BAD_GENESIS',
          'CHAIN_UNKNOWN_ACTOR',
          'CHAIN_BAD_SIGNATURE',
          'CHAIN_UNKNOWN_ENTRY_TYPE',
        ]).toContain(code);
      }),
      { numRuns: 200 },
    );
  });
});

describe('message timer (set-timer)', () => {
  it('is set by an admin of a group, kept by later entries, and turned off with 0', () => {
    const states = verifyMembershipChain(
      chain('group', 'alice', [
        ['alice', 'set-timer', 'alice', 3600],
        ['alice', 'add', 'bob'],
        ['alice', 'set-timer', 'alice', 0],
      ]),
      roomId,
      keyOf,
    );
    expect(states.map((state) => state.timer)).toEqual([0, 3600, 3600, 0]);
    // A timer changes neither the members nor the epoch.
    expect(states[1]!.epoch).toBe(0);
    expect(roles(states[1]!)).toEqual({ alice: 'admin' });
  });

  it('is set by either party of a direct conversation', () => {
    const states = verifyMembershipChain(
      chain('direct', 'alice', [['bob', 'set-timer', 'bob', 300]], 'bob'),
      roomId,
      keyOf,
    );
    expect(states[1]!.timer).toBe(300);
  });

  it('is refused to a plain member, an outsider, and for someone else', () => {
    const refused = (script: Parameters<typeof chain>[2], kind: RoomKind = 'group') =>
      expectCode(
        () => verifyMembershipChain(chain(kind, 'alice', script), roomId, keyOf),
        'CHAIN_ACTOR_NOT_ALLOWED',
      );
    refused([
      ['alice', 'add', 'bob'],
      ['bob', 'set-timer', 'bob', 60],
    ]);
    refused([['carol', 'set-timer', 'carol', 60]]);
    refused(
      [
        ['alice', 'admit', 'bob'],
        ['bob', 'set-timer', 'bob', 60],
      ],
      'channel',
    );
  });

  it('needs a parley/v1/message-timer of at most a year as its data', () => {
    const previous = membershipEntryHash(group[0]!);
    const timerEntry = (data: Uint8Array) => [
      group[0]!,
      rawEntry({
        position: 1,
        prevHash: previous,
        actor: 'alice',
        op: 'set-timer',
        subjectId: users.alice.id,
        data,
      }),
    ];
    const year = 365 * 24 * 3600;
    expect(
      verifyMembershipChain(
        timerEntry(canon('parley/v1/message-timer', [u64(year)])),
        roomId,
        keyOf,
      )[1]!.timer,
    ).toBe(year);
    for (const data of [
      new Uint8Array(),
      canon('parley/v1/message-timer', [u64(year + 1)]),
      canon('parley/v1/room-policy', [u64(60)]),
      canon('parley/v1/message-timer', [new Uint8Array(4)]),
    ]) {
      expectCode(() => verifyMembershipChain(timerEntry(data), roomId, keyOf), 'CHAIN_MALFORMED');
    }
  });

  it('is refused at creation for another subject, a bad timer, or a timer on another op', () => {
    const { alice, bob } = users;
    const previous = { position: 0, hash: membershipEntryHash(group[0]!) };
    const base = { roomId, previous, actorId: alice.id, actor: alice.keys };
    for (const changed of [
      { op: 'set-timer' as const, subjectId: bob.id, timer: 60 },
      { op: 'set-timer' as const, subjectId: alice.id },
      { op: 'set-timer' as const, subjectId: alice.id, timer: -1 },
      { op: 'set-timer' as const, subjectId: alice.id, timer: 365 * 24 * 3600 + 1 },
      { op: 'add' as const, subjectId: bob.id, timer: 60 },
    ]) {
      expectCode(() => createMembershipEntry({ ...base, ...changed }), 'INVALID_ARGUMENT');
    }
  });
});

describe('who may distribute', () => {
  const states = verifyMembershipChain(group, roomId, keyOf);
  const { alice, bob, carol, dave } = users;

  it('needs a position of the epoch where both are members', () => {
    expect(mayDistribute(states, 0, alice.id, carol.id)).toBe(true);
    expect(mayDistribute(states, 0, bob.id, carol.id)).toBe(true);
    expect(mayDistribute(states, 1, alice.id, bob.id)).toBe(true);
    expect(mayDistribute(states, 1, alice.id, carol.id)).toBe(false); // removed at epoch 1
    expect(mayDistribute(states, 1, carol.id, bob.id)).toBe(false);
    expect(mayDistribute(states, 2, alice.id, bob.id)).toBe(false); // bob left
    expect(mayDistribute(states, 2, alice.id, alice.id)).toBe(true);
    expect(mayDistribute(states, 0, dave.id, alice.id)).toBe(false);
    expect(mayDistribute(states, 3, alice.id, alice.id)).toBe(false);
    expectCode(() => mayDistribute(states, -1, alice.id, bob.id), 'INVALID_ARGUMENT');
    expectCode(() => mayDistribute(states, 0, alice.id.subarray(1), bob.id), 'INVALID_ARGUMENT');
  });

  it('answers who was a member at an epoch', () => {
    expect(isMemberAtEpoch(states, 1, carol.id)).toBe(false);
    expect(isMemberAtEpoch(states, 1, bob.id)).toBe(true);
    expect(isMemberAtEpoch(states, 2, bob.id)).toBe(false);
  });
});

describe('creating entries', () => {
  it('refuses invalid arguments', () => {
    const { alice, bob } = users;
    // Each call below is a valid genesis or add by alice with the named fields changed.
    const genesisRefused = (changed: Partial<Parameters<typeof createGenesis>[0]>) =>
      expectCode(
        () =>
          createGenesis({
            roomId,
            kind: 'group',
            actorId: alice.id,
            actor: alice.keys,
            ...changed,
          }),
        'INVALID_ARGUMENT',
      );
    const previous = { position: 0, hash: membershipEntryHash(group[0]!) };
    const entryRefused = (changed: Partial<Parameters<typeof createMembershipEntry>[0]>) =>
      expectCode(
        () =>
          createMembershipEntry({
            roomId,
            previous,
            actorId: alice.id,
            actor: alice.keys,
            op: 'add',
            subjectId: bob.id,
            ...changed,
          }),
        'INVALID_ARGUMENT',
      );
    genesisRefused({ kind: 'direct' });
    genesisRefused({ kind: 'direct', peerId: alice.id });
    genesisRefused({ peerId: bob.id });
    genesisRefused({ kind: 'forum' as RoomKind });
    entryRefused({ op: 'leave' });
    entryRefused({ op: 'genesis' as 'add' });
    entryRefused({ previous: { position: 0, hash: bytes(31, 0) } });
    expectCode(() => verifyMembershipChain(group, bytes(3, 0), keyOf), 'INVALID_ARGUMENT');
  });
});
