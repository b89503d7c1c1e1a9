// Inputs for fuzzing the REST bodies and WebSocket frames: values drawn from the TypeBox schemas
// of @parley/wire (well-formed, so they reach the code behind validation), hostile values put in
// their fields, structural changes, and byte-level mutations of valid encodings. Every input is
// the exact text (or bytes) put on the wire, so a failing case can be replayed as it is.
import type { TSchema } from '@sinclair/typebox';
import fc from 'fast-check';

/** What a case sends: text (the usual JSON, mutated or not) or raw bytes. */
export type WireInput = { text: string } | { bytes: Uint8Array };

/** A fast-check arbitrary of values that satisfy `schema` (the subset of JSON Schema wire uses). */
export function valuesOf(schema: TSchema): fc.Arbitrary<unknown> {
  const s = schema as SchemaShape;
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.anyOf !== undefined) return fc.oneof(...s.anyOf.map((member) => valuesOf(member)));
  switch (s.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.oneof(
        fc.integer({ min: clampInt(s.minimum, -1e6), max: clampInt(s.maximum, 1e6) }),
        fc.constantFrom(
          ...[s.minimum, s.maximum].filter((bound): bound is number => bound !== undefined),
        ),
      );
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'string':
      return stringsOf(s);
    case 'array': {
      const items = s.items === undefined ? fc.anything() : valuesOf(s.items);
      return fc.array(items, {
        minLength: s.minItems ?? 0,
        // Arrays of up to thousands of items are allowed; a few are enough to reach the code.
        maxLength: Math.min(s.maxItems ?? 4, Math.max(s.minItems ?? 0, 4)),
      });
    }
    case 'object': {
      const properties = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const record = fc.record(
        Object.fromEntries(
          Object.entries(properties).map(([key, value]) => [key, valuesOf(value)]),
        ),
        { requiredKeys: [...required] },
      );
      const minimum = s.minProperties ?? 0;
      return minimum === 0
        ? record
        : record.filter((value) => Object.keys(value).length >= minimum);
    }
    default:
      return fc.jsonValue();
  }
}

/**
 * A body or frame that differs from `valid` in one of many hostile ways: a field replaced by a
 * hostile value, a field dropped or added (prototype keys among them), the whole value replaced,
 * or the encoded text mutated byte by byte. Never `valid` itself.
 */
export function mutationsOf(valid: Record<string, unknown>): fc.Arbitrary<WireInput> {
  const text = JSON.stringify(valid);
  const keys = Object.keys(valid);
  const field = keys.length === 0 ? fc.constant('type') : fc.constantFrom(...keys);
  return fc
    .oneof(
      // A field holds something hostile.
      fc
        .tuple(field, hostileValue())
        .map(([key, value]) => ({ text: withField(text, key, value) })),
      // A field is missing.
      field.map((key) => ({ text: JSON.stringify(without(valid, key)) })),
      // An unknown field, a prototype key among them.
      fc
        .tuple(fc.oneof(PROTOTYPE_KEYS, fc.string({ maxLength: 12 })), hostileValue())
        .map(([key, value]) => ({ text: withField(text, key, value) })),
      // Something else entirely where the object should be.
      hostileValue().map((value) => ({ text: encodeHostile(value) })),
      // The encoding itself is damaged.
      byteMutations(text),
      // A blob inside decodes to damaged bytes: past the schema, into the decoders and verifiers.
      ...blobMutations(valid),
    )
    .filter((input) => !('text' in input) || input.text !== text);
}

/**
 * For each canonical base64url blob in `valid` (a field, or an item of an array field), the body
 * with that blob's bytes flipped, overwritten, cut, extended or spliced, and encoded canonically
 * again, so the text still passes the schema and the damage reaches the code that reads the bytes.
 */
export function blobMutations(valid: Record<string, unknown>): fc.Arbitrary<WireInput>[] {
  const blobs: { key: string; index?: number; bytes: Uint8Array }[] = [];
  for (const [key, value] of Object.entries(valid)) {
    if (isBlob(value)) blobs.push({ key, bytes: Buffer.from(value, 'base64url') });
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        if (isBlob(item)) blobs.push({ key, index, bytes: Buffer.from(item, 'base64url') });
      });
    }
  }
  return blobs.map(({ key, index, bytes }) =>
    damagedBytes(bytes).map((damaged): WireInput => {
      const encoded = Buffer.from(damaged).toString('base64url');
      const copy: Record<string, unknown> = { ...valid };
      if (index === undefined) copy[key] = encoded;
      else copy[key] = (valid[key] as unknown[]).map((item, i) => (i === index ? encoded : item));
      return { text: JSON.stringify(copy) };
    }),
  );
}

/** Bytes changed the ways a fuzzer changes them: bits, bytes, lengths, repeated parts. */
export function damagedBytes(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const position = fc.nat(Math.max(0, bytes.length - 1));
  const edit = (apply: (copy: number[]) => void): Uint8Array => {
    const copy = [...bytes];
    apply(copy);
    return Uint8Array.from(copy);
  };
  return fc.oneof(
    fc
      .tuple(position, fc.integer({ min: 0, max: 7 }))
      .map(([at, bit]) => edit((copy) => (copy[at]! ^= 1 << bit))),
    fc
      .tuple(position, fc.constantFrom(0, 1, 0x7f, 0x80, 0xff))
      .map(([at, value]) => edit((copy) => (copy[at] = value))),
    // Length prefixes set to zero, to the maximum, or pointing past the end.
    fc
      .tuple(position, fc.constantFrom([0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff], [0, 0, 1, 0]))
      .map(([at, word]) => edit((copy) => copy.splice(at, word.length, ...word))),
    position.map((at) => edit((copy) => copy.splice(at))),
    fc
      .tuple(position, fc.uint8Array({ minLength: 1, maxLength: 64 }))
      .map(([at, inserted]) => edit((copy) => copy.splice(at, 0, ...inserted))),
    fc
      .uint8Array({ minLength: 1, maxLength: 32 })
      .map((tail) => edit((copy) => copy.push(...tail))),
    fc.constant(edit((copy) => copy.push(...copy))),
  );
}

function isBlob(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 16 &&
    /^[A-Za-z0-9_-]+$/.test(value) &&
    Buffer.from(value, 'base64url').toString('base64url') === value
  );
}

/** Random bytes, random text and random JSON: inputs with no relation to any schema. */
export function noise(): fc.Arbitrary<WireInput> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ bytes })),
    fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text })),
    fc.jsonValue({ maxDepth: 4 }).map((value) => ({ text: JSON.stringify(value) ?? 'null' })),
    fc.object({ maxDepth: 3 }).map((value) => ({ text: JSON.stringify(value) })),
  );
}

/** Keys that pollute prototypes when an object is merged naively. */
export const PROTOTYPE_KEYS = fc.constantFrom('__proto__', 'constructor', 'prototype');

/** A value placed where the schema wants something else. */
export type Hostile =
  | { kind: 'json'; value: unknown }
  /** Raw JSON text: numbers JSON.stringify cannot write, deep nesting, huge strings. */
  | { kind: 'raw'; text: string };

export function hostileValue(): fc.Arbitrary<Hostile> {
  const json = (arbitrary: fc.Arbitrary<unknown>) =>
    arbitrary.map((value): Hostile => ({ kind: 'json', value }));
  const raw = (arbitrary: fc.Arbitrary<string>) =>
    arbitrary.map((text): Hostile => ({ kind: 'raw', text }));
  return fc.oneof(
    json(
      fc.constantFrom(
        null,
        true,
        false,
        0,
        -1,
        1.5,
        -0.000001,
        2 ** 31,
        2 ** 53,
        2 ** 53 + 2,
        -(2 ** 53) - 2,
        1e308,
        '',
        ' ',
        '\u0000',
        'null',
        'NaN',
        '-1',
        '1e999',
        '0x10',
        '__proto__',
        [],
        {},
        [null],
      ),
    ),
    json(fc.string({ unit: 'binary', maxLength: 50 })),
    json(fc.double()),
    json(fc.integer()),
    json(fc.jsonValue({ maxDepth: 3 })),
    json(badBase64()),
    // Numbers beyond every range, and spellings JSON.parse turns into Infinity or -0.
    raw(
      fc.constantFrom(
        '1e999',
        '-1e999',
        '-0',
        '123456789012345678901234567890',
        '0.0000000000000000000000000001',
        '9007199254740993',
      ),
    ),
    raw(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String)),
    // Deep nesting: arrays or objects thousands of levels down.
    raw(
      fc
        .tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean())
        .map(([depth, arrays]) =>
          arrays
            ? '['.repeat(depth) + ']'.repeat(depth)
            : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
        ),
    ),
    // Prototype pollution attempts as values.
    raw(
      fc.constantFrom(
        '{"__proto__":{"polluted":true}}',
        '{"constructor":{"prototype":{"polluted":true}}}',
        '{"__proto__":null}',
      ),
    ),
    // Oversized strings: above the field's limit, and above the body limit (413).
    raw(
      fc
        .constantFrom(1_000, 5_000, 70_000, 200_000)
        .map((length) => JSON.stringify('A'.repeat(length))),
    ),
  );
}

/** Text that looks like base64url but is not canonical unpadded base64url. */
export function badBase64(): fc.Arbitrary<string> {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const valid = fc.string({
    unit: fc.constantFrom(...alphabet),
    minLength: 1,
    maxLength: 60,
  });
  return fc.oneof(
    valid.map((text) => `${text}=`),
    valid.map((text) => `${text}==`),
    valid.map((text) => text.replace(/-/g, '+').replace(/_/g, '/') + '+/'),
    valid.map((text) => ` ${text}`),
    valid.map((text) => `${text}\n`),
    valid.map((text) => `${text}%`),
    valid.map((text) => `${text}é`),
    // A length of 4n+1 never decodes; 4n+2 and 4n+3 carry bits that must be zero.
    fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 1 }),
    fc.constantFrom('A', 'AB', 'ABC', 'AAAAB', 'AAAAAAB', 'AR', 'AAB', '_', '-'),
  );
}

/** The encoded text, mutated the ways a fuzzer mutates bytes. */
export function byteMutations(text: string): fc.Arbitrary<WireInput> {
  const bytes = new TextEncoder().encode(text);
  const position = fc.nat(Math.max(0, bytes.length - 1));
  const edit = (apply: (copy: number[]) => void): WireInput => {
    const copy = [...bytes];
    apply(copy);
    return { bytes: Uint8Array.from(copy) };
  };
  return fc.oneof(
    fc
      .tuple(position, fc.integer({ min: 0, max: 7 }))
      .map(([at, bit]) => edit((copy) => (copy[at]! ^= 1 << bit))),
    fc
      .tuple(position, fc.integer({ min: 0, max: 255 }))
      .map(([at, value]) => edit((copy) => (copy[at] = value))),
    fc
      .tuple(position, fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([at, inserted]) => edit((copy) => copy.splice(at, 0, ...inserted))),
    fc
      .tuple(position, fc.integer({ min: 1, max: 16 }))
      .map(([at, count]) => edit((copy) => copy.splice(at, count))),
    position.map((at) => edit((copy) => copy.splice(at))),
    fc
      .tuple(position, position)
      .map(([a, b]) =>
        edit((copy) =>
          copy.splice(Math.max(a, b), 0, ...copy.slice(Math.min(a, b), Math.max(a, b))),
        ),
      ),
    // JSON tokens that stress the parser, spliced in anywhere.
    fc
      .tuple(
        position,
        fc.constantFrom(
          '1e999',
          '-0',
          '"\\ud800"',
          '\\u0000',
          '{"__proto__":{"x":1}}',
          '[',
          '}',
          ',',
        ),
      )
      .map(([at, token]) => edit((copy) => copy.splice(at, 0, ...new TextEncoder().encode(token)))),
  );
}

/** The wire text of `input` (bytes decoded as UTF-8, for the JSON parser's view). */
export function wireText(input: WireInput): string {
  return 'text' in input ? input.text : new TextDecoder().decode(input.bytes);
}

/** Parses like the server: JSON.parse, prototype keys left as own properties. */
export function parsedOrUndefined(input: WireInput): unknown {
  try {
    return JSON.parse(wireText(input)) as unknown;
  } catch {
    return undefined;
  }
}

// ----- helpers -----

interface SchemaShape {
  type?: string;
  const?: unknown;
  anyOf?: TSchema[];
  properties?: Record<string, TSchema>;
  required?: string[];
  items?: TSchema;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

function stringsOf(s: SchemaShape): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  // Long enough to reach the code behind the schema; the largest sizes are the hostile values'.
  const max = Math.min(s.maxLength ?? 64, Math.max(min, 64));
  if (s.pattern === undefined) return fc.string({ minLength: min, maxLength: max });
  const fixed = /\{(\d+)\}\$$/.exec(s.pattern);
  const matching = fc.stringMatching(new RegExp(s.pattern));
  if (fixed !== undefined && fixed !== null) return matching;
  return matching.filter((text) => text.length >= min && text.length <= (s.maxLength ?? Infinity));
}

function clampInt(bound: number | undefined, fallback: number): number {
  if (bound === undefined) return fallback;
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, bound));
}

function without(value: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

/** The JSON text of `text`'s object with `key` set to the hostile value (an own key, even __proto__). */
function withField(text: string, key: string, value: Hostile): string {
  const body = text.slice(1, -1);
  const encoded = encodeHostile(value);
  const pair = `${JSON.stringify(key)}:${encoded}`;
  // Appended after the rest: JSON.parse keeps the last of two equal keys, so this one wins.
  return body === '' ? `{${pair}}` : `{${body},${pair}}`;
}

function encodeHostile(value: Hostile): string {
  return value.kind === 'raw' ? value.text : (JSON.stringify(value.value) ?? 'null');
}
