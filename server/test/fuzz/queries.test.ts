// Fuzzing the query strings and path parameters of the read routes: values drawn from their
// @parley/wire schemas, hostile text (NUL and other control characters, lone surrogates, broken
// percent-encoding, huge numbers), and cursors that decode to something the server never issued.
// A read changes nothing; every answer must be a 200 or a registered 4xx error, never a 5xx.
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  ChainQuery,
  ChannelQuery,
  ErrorResponse,
  errorTable,
  HistoryQuery,
  KeysQuery,
  SearchPeopleQuery,
} from '@parley/wire';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../../src/app';
import { createTestApp } from '../helpers';
import { createPerson, createRoom, groupWith, type Person } from '../rooms-fixtures';
import { valuesOf } from './inputs';
import { snapshotDifferences, snapshotTables } from './snapshot';

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 200);

describe('query strings under fuzzing', () => {
  let app: ParleyApp;
  let caller: Person;
  let paths: Record<string, string[]>;

  beforeAll(async () => {
    app = await createTestApp();
    caller = await createPerson(app);
    const room = await groupWith(app, caller, []);
    await createRoom(app, caller, 'channel', { name: 'fuzzing', topic: 'queries', tags: ['fuzz'] });
    const rooms = [room.id, '0'.repeat(32)];
    paths = {
      channels: ['/api/channels'],
      users: ['/api/users'],
      chain: rooms.map((id) => `/api/rooms/${id}/chain`),
      keys: rooms.map((id) => `/api/rooms/${id}/keys`),
      messages: rooms.map((id) => `/api/rooms/${id}/messages`),
    };
  });

  afterAll(async () => {
    await app?.close();
  });

  const routes: [name: string, schema: TSchema][] = [
    ['channels', ChannelQuery],
    ['users', SearchPeopleQuery],
    ['chain', ChainQuery],
    ['keys', KeysQuery],
    ['messages', HistoryQuery],
  ];

  it.each(routes)(
    'GET %s answers every hostile query with 200 or a registered 4xx',
    async (name, schema) => {
      const before = await snapshotTables(app);
      const keys = Object.keys(
        (schema as unknown as { properties: Record<string, TSchema> }).properties,
      );
      const query = fc.oneof(
        // Well-formed queries: each value as the schema allows, spelled as a query string.
        valuesOf(schema).map((value) => new URLSearchParams(stringify(value as object)).toString()),
        // A well-formed query with one parameter hostile (and sometimes repeated).
        fc
          .tuple(valuesOf(schema), fc.constantFrom(...keys), hostileParameter(), fc.boolean())
          .map(([value, key, hostile, repeat]) => {
            const params = new URLSearchParams(stringify(value as object));
            if (repeat) params.append(key, hostile);
            else params.set(key, hostile);
            return params.toString();
          }),
        // Raw query text: broken percent-encoding, separators, and what URLSearchParams would escape.
        fc
          .tuple(
            fc.constantFrom(...keys),
            fc.constantFrom('%', '%zz', '%00', '%ff%fe', '%C0%80', '&&', '=', '%u0000', '+', '[]'),
          )
          .map(([key, raw]) => `${key}=${raw}`),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths[name]!), query, async (path, search) => {
          const response = await app.inject({
            method: 'GET',
            url: `${path}?${search}`,
            headers: caller.auth,
          });
          if (response.statusCode === 200) return;
          const body = response.json<unknown>();
          if (
            response.statusCode >= 500 ||
            !Value.Check(ErrorResponse, body) ||
            errorTable[body.error.code].status !== response.statusCode
          ) {
            throw new Error(`GET ${path}?${search}: ${response.statusCode} ${response.body}`);
          }
        }),
        { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
      expect(snapshotDifferences(before, await snapshotTables(app))).toEqual([]);
    },
    60_000,
  );
});

/** Text a query parameter may carry that no well-behaved client sends. */
function hostileParameter(): fc.Arbitrary<string> {
  const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return fc.oneof(
    fc.constantFrom(
      '',
      '\u0000',
      'a\u0000b',
      '\u0001\u001f\u007f',
      '\ud800',
      '\uffff',
      '-1',
      '1e999',
      '9007199254740993',
      '123456789012345678901234567890',
      '0x10',
      '1.5',
      'NaN',
      '%',
      '__proto__',
      'constructor',
      ' ',
      'A'.repeat(5000),
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
    // Cursors that decode, but to what the server never issued.
    fc
      .constantFrom<unknown>(
        ['\u0000', '\u0000'],
        ['a\u0000', '0'.repeat(32)],
        ['name', 5],
        [null, null],
        ['x', 'y', 'z'],
        { name: 'x', id: 'y' },
        'plain',
        ['\ud800', '\udfff'],
        ['%', '%'],
      )
      .map(cursorOf),
    fc
      .string({ unit: 'binary', maxLength: 30 })
      .map((text) => Buffer.from(text).toString('base64url')),
    fc
      .tuple(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 40 }),
      )
      .map(cursorOf),
  );
}

function stringify(value: object): Record<string, string> {
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}
