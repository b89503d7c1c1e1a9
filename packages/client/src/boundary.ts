// The client's border with the server. The server and the network are treated as hostile: every
// WebSocket frame and every REST answer is checked here against @parley/wire's schemas, compiled
// once, before any of its fields is read. What fails is reported with its type and the schema path
// of the first mismatch and never reaches the rest of the client, so a value shaped
// `{ "toString": 0 }` or an array nested a million deep cannot throw (or recurse) inside it.
import {
  AckFrame,
  ContactFrame,
  ErrorFrame,
  JoinRequestFrame,
  KeyFrame,
  KeysFrame,
  MembershipFrame,
  MessageFrame,
  PongFrame,
  ReadyFrame,
  RemovedFrame,
  ProfileFrame,
  RoomUpdatedFrame,
  ServerPresenceFrame,
  ServerReceiptFrame,
  ServerTypingFrame,
  SubscribedFrame,
  UnsubscribedFrame,
} from '@parley/wire';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value, type ValueErrorIterator } from '@sinclair/typebox/value';

/** What did not pass the border: where it came from, its type (or route), the schema path. */
export interface ProtocolViolation {
  source: 'frame' | 'answer';
  /** The frame's `type` (or `unknown`), or the route of the answer (`GET /api/rooms/:id`). */
  type: string;
  /** The JSON pointer of the first mismatch (`/seq`), or `` for the whole value. */
  path: string;
  message: string;
}

interface SchemaCheck {
  Check(value: unknown): boolean;
  Errors(value: unknown): ValueErrorIterator;
}

/**
 * A compiled check is generated code (`new Function`), which a page whose Content-Security-Policy
 * has no 'unsafe-eval' (the web app's) may not run; there TypeBox's interpreter checks the same
 * schema, slower but alike.
 */
function compile(schema: TSchema): SchemaCheck {
  try {
    return TypeCompiler.Compile(schema);
  } catch {
    return {
      Check: (value) => Value.Check(schema, value),
      Errors: (value) => Value.Errors(schema, value),
    };
  }
}

const serverFrames = {
  ready: ReadyFrame,
  subscribed: SubscribedFrame,
  unsubscribed: UnsubscribedFrame,
  ack: AckFrame,
  message: MessageFrame,
  membership: MembershipFrame,
  key: KeyFrame,
  'join-request': JoinRequestFrame,
  typing: ServerTypingFrame,
  presence: ServerPresenceFrame,
  receipt: ServerReceiptFrame,
  removed: RemovedFrame,
  'room-updated': RoomUpdatedFrame,
  profile: ProfileFrame,
  contact: ContactFrame,
  keys: KeysFrame,
  error: ErrorFrame,
  pong: PongFrame,
} as const;

type ServerFrames = typeof serverFrames;
/** A server frame that passed its schema. */
export type CheckedFrame = {
  [K in keyof ServerFrames]: Static<ServerFrames[K]>;
}[keyof ServerFrames];

const frameChecks = new Map<string, SchemaCheck>(
  Object.entries(serverFrames).map(([type, schema]) => [type, compile(schema)]),
);

/** Parses and checks one WebSocket message; never throws. */
export function checkFrame(
  data: unknown,
): { ok: true; frame: CheckedFrame } | { ok: false; violation: ProtocolViolation } {
  const text =
    typeof data === 'string'
      ? data
      : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
        ? decode(data as ArrayBuffer)
        : undefined;
  let value: unknown;
  try {
    value = text === undefined ? undefined : JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, violation: violation('frame', 'unknown', '', 'not a JSON object') };
  }
  const type = (value as { type?: unknown }).type;
  const check = typeof type === 'string' ? frameChecks.get(type) : undefined;
  if (typeof type !== 'string' || check === undefined) {
    return { ok: false, violation: violation('frame', 'unknown', '/type', 'no such frame type') };
  }
  const failure = firstError(check, value);
  if (failure !== undefined) return { ok: false, violation: { source: 'frame', type, ...failure } };
  return { ok: true, frame: value as CheckedFrame };
}

function decode(data: ArrayBuffer): string | undefined {
  try {
    return new TextDecoder().decode(data);
  } catch {
    return undefined;
  }
}

// ----- REST answers -----

/** Checks one route's JSON answer; undefined when it passes. Never throws. */
export type AnswerCheck = (value: unknown) => ProtocolViolation | undefined;

/**
 * Compiles the check of a route's answer once (api.ts holds the routes and their schemas);
 * `route` names it in a violation (`GET /api/rooms/:id`).
 */
export function answerCheck(route: string, schema: TSchema): AnswerCheck {
  const check = compile(schema);
  return (value) => {
    const failure = firstError(check, value);
    return failure === undefined ? undefined : { source: 'answer', type: route, ...failure };
  };
}

function firstError(
  check: SchemaCheck,
  value: unknown,
): { path: string; message: string } | undefined {
  try {
    if (check.Check(value)) return undefined;
    const error = check.Errors(value).First();
    return { path: error?.path ?? '', message: error?.message ?? 'does not match its schema' };
  } catch {
    // A compiled check reads fields, not methods; this is only a last line against surprises.
    return { path: '', message: 'the value could not be checked' };
  }
}

function violation(
  source: ProtocolViolation['source'],
  type: string,
  path: string,
  message: string,
): ProtocolViolation {
  return { source, type, path, message };
}
