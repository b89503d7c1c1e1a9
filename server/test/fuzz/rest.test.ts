// Fuzzing the REST bodies: for every route that takes a JSON body, thousands of inputs drawn from
// its @parley/wire schema, mutated field by field and byte by byte, or plain noise. Every answer
// must be a 4xx `{ error: { code, message } }` whose code is in the registry with that status, the
// process must stay up, no prototype may be polluted, and every table must hold what it held.
//
// The caller is a real user with published keys, but every signature in the inputs is made with a
// key that is not theirs, and the rooms are ones where a valid-looking body still cannot succeed;
// where a well-formed random body could legitimately succeed (sign-up, profile, backup), inputs
// that pass the schema are left out, so what remains must all be refused.
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import {
  createGenesis,
  createMembershipEntry,
  encryptionKeyPair,
  fromHex,
  generateIdentity,
  identityKeyPair,
  sealRoomKey,
  signEncryptionKey,
  toBase64Url,
  generateRoomKey,
} from '@parley/crypto';
import {
  AppendChainRequest,
  ChangePasswordRequest,
  ContactRequestBody,
  CreateRoomRequest,
  DeleteAccountRequest,
  ErrorResponse,
  errorTable,
  ForgotPasswordRequest,
  JoinRequestBody,
  LoginRequest,
  LogoutRequest,
  PostKeysRequest,
  PostReceiptsRequest,
  PrivacySettings,
  PublishKeysRequest,
  PutBackupRequest,
  RefreshRequest,
  RegisterRequest,
  ResetIdentityRequest,
  ResetPasswordRequest,
  SetEmailRequest,
  UpdateProfileRequest,
  VerifyEmailRequest,
} from '@parley/wire';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../../src/app';
import { createTestApp } from '../helpers';
import {
  appendEntry,
  createPerson,
  createRoom,
  groupWith,
  type Person,
  type TestRoom,
} from '../rooms-fixtures';
import { mutationsOf, noise, parsedOrUndefined, valuesOf, type WireInput } from './inputs';
import { snapshotDifferences, snapshotTables } from './snapshot';

/** Fixed, so a failure replays; FUZZ_SEED explores other inputs. */
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 250);

interface BodyRoute {
  name: string;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The paths to try (room routes: a room the caller is in, one it is not in, none). */
  paths: string[];
  schema: TSchema;
  /** A well-formed body this caller cannot make succeed: the start of the mutations. */
  seed: () => Record<string, unknown>;
  /**
   * Whether any body that passes the schema is still refused (signatures the caller cannot make,
   * rooms it may not touch). When false, inputs that pass the schema are skipped.
   */
  refusedWhenWellFormed: boolean;
  /** Success statuses a well-formed body may get without changing stored data. */
  harmlessSuccess?: number[];
}

describe('REST bodies under fuzzing', () => {
  let app: ParleyApp;
  let caller: Person;
  let owner: Person;
  let foreignGroup: TestRoom;
  let ownGroup: TestRoom;
  let routes: BodyRoute[];

  beforeAll(async () => {
    app = await createTestApp();
    owner = await createPerson(app);
    caller = await createPerson(app);
    foreignGroup = await groupWith(app, owner, []);
    ownGroup = await createRoom(app, owner, 'group');
    await appendEntry(app, ownGroup, owner, 'add', caller);
    await createRoom(app, owner, 'channel');
    const backup = await app.inject({
      method: 'PUT',
      url: '/api/me/backup',
      headers: caller.auth,
      payload: { blob: toBase64Url(crypto.getRandomValues(new Uint8Array(200))) },
    });
    expect(backup.statusCode, backup.body).toBe(200);

    // Keys that are not the caller's: whatever they sign, the server must not take as the caller's.
    const forger = generateIdentity();
    const forgerIdentity = identityKeyPair(forger.identitySeed);
    const forgerEncryption = encryptionKeyPair(forger.encryptionSeed);
    const roomsOf = (room: TestRoom) => [
      `/api/rooms/${room.id}`,
      `/api/rooms/${'0'.repeat(32)}`,
      `/api/rooms/${room.id.toUpperCase()}`,
      '/api/rooms/not-an-id',
    ];
    routes = [
      {
        name: 'POST /api/auth/register',
        method: 'POST',
        paths: ['/api/auth/register'],
        schema: RegisterRequest,
        seed: () => ({ username: owner.username, password: 'a password nobody uses 1' }),
        refusedWhenWellFormed: false,
      },
      {
        name: 'POST /api/auth/login',
        method: 'POST',
        paths: ['/api/auth/login'],
        schema: LoginRequest,
        seed: () => ({ username: owner.username, password: 'not the password at all' }),
        refusedWhenWellFormed: true,
      },
      {
        name: 'POST /api/auth/refresh',
        method: 'POST',
        paths: ['/api/auth/refresh'],
        schema: RefreshRequest,
        seed: () => ({ refreshToken: toBase64Url(crypto.getRandomValues(new Uint8Array(32))) }),
        refusedWhenWellFormed: true,
      },
      {
        // Logging out a token nobody holds ends no session: 204, nothing changes.
        name: 'POST /api/auth/logout',
        method: 'POST',
        paths: ['/api/auth/logout'],
        schema: LogoutRequest,
        seed: () => ({ refreshToken: toBase64Url(crypto.getRandomValues(new Uint8Array(32))) }),
        refusedWhenWellFormed: true,
        harmlessSuccess: [204],
      },
      {
        name: 'DELETE /api/me',
        method: 'DELETE',
        paths: ['/api/me'],
        schema: DeleteAccountRequest,
        seed: () => ({ password: 'not the password at all' }),
        refusedWhenWellFormed: true,
      },
      {
        name: 'PUT /api/me/backup',
        method: 'PUT',
        paths: ['/api/me/backup'],
        schema: PutBackupRequest,
        seed: () => ({ blob: toBase64Url(new Uint8Array(120)) }),
        refusedWhenWellFormed: false,
      },
      {
        name: 'PATCH /api/me/profile',
        method: 'PATCH',
        paths: ['/api/me/profile'],
        schema: UpdateProfileRequest,
        seed: () => ({ displayName: 'someone', statusMessage: 'here' }),
        refusedWhenWellFormed: false,
      },
      {
        // A higher key version, bound by a key that is not the caller's identity key.
        name: 'PUT /api/me/keys',
        method: 'PUT',
        paths: ['/api/me/keys'],
        schema: PublishKeysRequest,
        seed: () => ({
          identityKey: toBase64Url(caller.identity.publicKey),
          encryptionKey: toBase64Url(forgerEncryption.publicKey),
          version: 2,
          signature: toBase64Url(
            signEncryptionKey(forgerIdentity, {
              userId: caller.idBytes,
              encryptionPublicKey: forgerEncryption.publicKey,
              version: 2,
            }),
          ),
        }),
        refusedWhenWellFormed: true,
      },
      {
        // A genesis naming the caller, signed by a key that is not theirs.
        name: 'POST /api/rooms',
        method: 'POST',
        paths: ['/api/rooms'],
        schema: CreateRoomRequest,
        seed: () => ({
          genesis: toBase64Url(
            createGenesis({
              roomId: crypto.getRandomValues(new Uint8Array(16)),
              kind: 'channel',
              actorId: caller.idBytes,
              actor: forgerIdentity,
            }),
          ),
          name: 'fuzzed',
          topic: 'fuzzing',
          tags: ['fuzz'],
        }),
        refusedWhenWellFormed: true,
      },
      {
        // The caller adding someone to a group it is a member of, signed by a key not its own.
        name: 'POST /api/rooms/:id/chain',
        method: 'POST',
        paths: [...roomsOf(ownGroup), ...roomsOf(foreignGroup)].map((room) => `${room}/chain`),
        schema: AppendChainRequest,
        seed: () => ({
          entry: toBase64Url(
            createMembershipEntry({
              roomId: ownGroup.idBytes,
              previous: ownGroup.head,
              actorId: caller.idBytes,
              actor: forgerIdentity,
              op: 'add',
              subjectId: fromHex(owner.id),
            }),
          ),
        }),
        refusedWhenWellFormed: true,
      },
      {
        // Groups take no join requests; the caller is a member of one and not of the other.
        name: 'POST /api/rooms/:id/join-requests',
        method: 'POST',
        paths: [...roomsOf(ownGroup), ...roomsOf(foreignGroup)].map(
          (room) => `${room}/join-requests`,
        ),
        schema: JoinRequestBody,
        seed: () => ({}),
        refusedWhenWellFormed: true,
      },
      {
        name: 'POST /api/rooms/:id/keys',
        method: 'POST',
        paths: [...roomsOf(ownGroup), ...roomsOf(foreignGroup)].map((room) => `${room}/keys`),
        schema: PostKeysRequest,
        seed: () => ({
          envelopes: [
            toBase64Url(
              sealRoomKey({
                roomKey: generateRoomKey(),
                roomId: ownGroup.idBytes,
                epoch: 0,
                recipientId: caller.idBytes,
                recipientEncryptionKey: caller.encryption.publicKey,
                distributorId: caller.idBytes,
                distributor: forgerIdentity,
              }),
            ),
          ],
        }),
        refusedWhenWellFormed: true,
      },
      {
        // Receipts in a room the caller is not a member of.
        name: 'POST /api/rooms/:id/receipts',
        method: 'POST',
        paths: roomsOf(foreignGroup).map((room) => `${room}/receipts`),
        schema: PostReceiptsRequest,
        seed: () => ({ read: 1, delivered: 1 }),
        refusedWhenWellFormed: true,
      },
      {
        // A token nobody was mailed.
        name: 'POST /api/auth/verify-email',
        method: 'POST',
        paths: ['/api/auth/verify-email'],
        schema: VerifyEmailRequest,
        seed: () => ({ token: toBase64Url(crypto.getRandomValues(new Uint8Array(32))) }),
        refusedWhenWellFormed: true,
      },
      {
        name: 'POST /api/auth/reset-password',
        method: 'POST',
        paths: ['/api/auth/reset-password'],
        schema: ResetPasswordRequest,
        seed: () => ({
          token: toBase64Url(crypto.getRandomValues(new Uint8Array(32))),
          password: 'a password nobody uses 1',
        }),
        refusedWhenWellFormed: true,
      },
      {
        // Nobody here has a verified address: the same 202 for every name, and nothing stored.
        name: 'POST /api/auth/forgot-password',
        method: 'POST',
        paths: ['/api/auth/forgot-password'],
        schema: ForgotPasswordRequest,
        seed: () => ({ login: owner.username }),
        refusedWhenWellFormed: true,
        harmlessSuccess: [202],
      },
      {
        // A binding the caller's password never confirms: the password is not theirs.
        name: 'POST /api/me/identity/reset',
        method: 'POST',
        paths: ['/api/me/identity/reset'],
        schema: ResetIdentityRequest,
        seed: () => ({
          password: 'not the password at all',
          identityKey: toBase64Url(forgerIdentity.publicKey),
          encryptionKey: toBase64Url(forgerEncryption.publicKey),
          version: 2,
          signature: toBase64Url(
            signEncryptionKey(forgerIdentity, {
              userId: caller.idBytes,
              encryptionPublicKey: forgerEncryption.publicKey,
              version: 2,
            }),
          ),
          backup: toBase64Url(new Uint8Array(64)),
        }),
        refusedWhenWellFormed: true,
      },
      {
        name: 'PUT /api/me/email',
        method: 'PUT',
        paths: ['/api/me/email'],
        schema: SetEmailRequest,
        seed: () => ({ email: 'someone@example.com', password: 'not the password at all' }),
        refusedWhenWellFormed: true,
      },
      {
        name: 'POST /api/me/password',
        method: 'POST',
        paths: ['/api/me/password'],
        schema: ChangePasswordRequest,
        seed: () => ({
          currentPassword: 'not the password at all',
          newPassword: 'a password nobody uses 1',
        }),
        refusedWhenWellFormed: true,
      },
      {
        // A well-formed body names a random user id: nobody has it.
        name: 'POST /api/contacts/requests',
        method: 'POST',
        paths: ['/api/contacts/requests'],
        schema: ContactRequestBody,
        seed: () => ({ userId: '0'.repeat(32) }),
        refusedWhenWellFormed: true,
      },
      {
        name: 'PUT /api/me/privacy',
        method: 'PUT',
        paths: ['/api/me/privacy'],
        schema: PrivacySettings,
        seed: () => ({ directFrom: 'everyone' }),
        refusedWhenWellFormed: false,
      },
    ];
  });

  afterAll(async () => {
    await app?.close();
  });

  // One test per route keeps a failure's replay short; the routes are named below, filled above.
  const names = [
    'POST /api/auth/register',
    'POST /api/auth/login',
    'POST /api/auth/refresh',
    'POST /api/auth/logout',
    'DELETE /api/me',
    'PUT /api/me/backup',
    'PATCH /api/me/profile',
    'PUT /api/me/keys',
    'POST /api/rooms',
    'POST /api/rooms/:id/chain',
    'POST /api/rooms/:id/join-requests',
    'POST /api/rooms/:id/keys',
    'POST /api/rooms/:id/receipts',
    'POST /api/auth/verify-email',
    'POST /api/auth/reset-password',
    'POST /api/auth/forgot-password',
    'PUT /api/me/email',
    'POST /api/me/password',
    'POST /api/contacts/requests',
    'PUT /api/me/privacy',
    'POST /api/me/identity/reset',
  ];

  it.each(names)(
    '%s refuses every hostile body and changes nothing',
    async (name) => {
      const route = routes.find((candidate) => candidate.name === name)!;
      const before = await snapshotTables(app);
      const seed = route.seed();
      const codes = new Map<string, number>();
      const inputs = fc.oneof(
        { weight: 6, arbitrary: mutationsOf(seed) },
        {
          weight: route.refusedWhenWellFormed ? 2 : 0,
          arbitrary: valuesOf(route.schema).map((value): WireInput => ({
            text: JSON.stringify(value),
          })),
        },
        { weight: 1, arbitrary: noise() },
      );
      const cases = fc.record({
        input: inputs,
        path: fc.constantFrom(...route.paths),
        contentType: fc.oneof(
          { weight: 12, arbitrary: fc.constant('application/json') },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              undefined,
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/json; charset=utf-16',
              'application/octet-stream',
              'multipart/form-data; boundary=x',
              'application/json, text/plain',
            ),
          },
        ),
        authorization: fc.oneof(
          { weight: 12, arbitrary: fc.constant<'caller' | string | undefined>('caller') },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              undefined,
              'Bearer',
              'Bearer x.y.z',
              'Basic YTpi',
              'bearer ',
            ),
          },
        ),
      });

      await fc.assert(
        fc.asyncProperty(cases, async ({ input, path, contentType, authorization }) => {
          // Fastify parses any application/json media type, parameters or not, as JSON.
          const jsonBody = contentType?.startsWith('application/json') === true;
          if (jsonBody && !route.refusedWhenWellFormed) {
            // A well-formed body may succeed here (and change data): only malformed ones count.
            fc.pre(!Value.Check(route.schema, parsedOrUndefined(input)));
          }
          const headers: Record<string, string> = {};
          if (contentType !== undefined) headers['content-type'] = contentType;
          if (authorization === 'caller') headers.authorization = `Bearer ${caller.accessToken}`;
          else if (authorization !== undefined) headers.authorization = authorization;
          const response = await app.inject({
            method: route.method,
            url: path,
            headers,
            payload: 'text' in input ? input.text : Buffer.from(input.bytes),
          });
          codes.set(answerCode(response), (codes.get(answerCode(response)) ?? 0) + 1);
          expectRefusal(response, route.harmlessSuccess ?? []);
        }),
        { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );

      if (process.env.FUZZ_VERBOSE !== undefined) console.log(name, Object.fromEntries(codes));
      // The inputs got past the schema to the route's own checks, not only to the validator.
      if (route.refusedWhenWellFormed) {
        const deeper = [...codes.keys()].filter((code) => !SHALLOW_CODES.has(code));
        expect(deeper, JSON.stringify(Object.fromEntries(codes))).not.toEqual([]);
      }
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(Object.prototype).not.toHaveProperty('x');
      const health = await app.inject({ method: 'GET', url: '/readyz' });
      expect(health.statusCode).toBe(200);
      expect(snapshotDifferences(before, await snapshotTables(app))).toEqual([]);
    },
    60_000,
  );
});

/** Answers that say only that the input was not JSON of the right shape (or not sent right). */
const SHALLOW_CODES = new Set([
  'VALIDATION_FAILED',
  'TAG_INVALID',
  'MALFORMED_JSON',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNAUTHENTICATED',
  'TOKEN_INVALID',
  'NOT_FOUND',
  'BAD_REQUEST',
]);

function answerCode(response: { statusCode: number; body: string }): string {
  try {
    const code = (JSON.parse(response.body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : String(response.statusCode);
  } catch {
    return String(response.statusCode);
  }
}

/** A 4xx in the error shape, with a registered code whose status it is (or an allowed success). */
function expectRefusal(
  response: { statusCode: number; body: string; headers: Record<string, unknown> },
  harmlessSuccess: number[],
): void {
  if (harmlessSuccess.includes(response.statusCode)) return;
  const where = `${response.statusCode} ${response.body.slice(0, 300)}`;
  if (response.statusCode < 400 || response.statusCode > 499) {
    throw new Error(`expected a 4xx, got ${where}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new Error(`expected a JSON error, got ${where}`);
  }
  if (!Value.Check(ErrorResponse, body))
    throw new Error(`not { error: { code, message } }: ${where}`);
  const { code } = body.error;
  if (errorTable[code].status !== response.statusCode) {
    throw new Error(`${code} is registered as ${errorTable[code].status}, answered ${where}`);
  }
  if (!String(response.headers['content-type']).startsWith('application/json')) {
    throw new Error(`error answered as ${String(response.headers['content-type'])}`);
  }
}
