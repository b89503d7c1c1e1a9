// The client's border with the server. The server and the network are treated as hostile: every
// WebSocket frame and every REST answer is checked here against @parley/wire's schemas, compiled
// once, before any of its fields is read. What fails is reported with its type and the schema path
// of the first mismatch and never reaches the rest of the client, so a value shaped
// `{ "toString": 0 }` or an array nested a million deep cannot throw (or recurse) inside it.
import {
  AccountRules,
  AttachmentLimits,
  AttachmentUploaded,
  AuthResponse,
  BackupResponse,
  ChainPage,
  ChannelPage,
  HistoryPage,
  JoinRequestList,
  PendingJoinList,
  KeyHistory,
  Me,
  PostKeysResponse,
  PublicProfile,
  ReceiptList,
  Room,
  RoomKeyList,
  RoomList,
  SearchPeopleResponse,
  UserKeys,
  AckFrame,
  ErrorFrame,
  JoinRequestFrame,
  KeyFrame,
  MembershipFrame,
  MessageFrame,
  PongFrame,
  ReadyFrame,
  RemovedFrame,
  ServerPresenceFrame,
  ServerReceiptFrame,
  ServerTypingFrame,
  SubscribedFrame,
  UnsubscribedFrame,
  AppendChainResponse,
  JoinRequestItem,
} from '@parley/wire';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
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

const Empty = Type.Union([Type.Undefined(), Type.Null(), Type.Object({})]);
const SessionsEnded = Type.Object({ sessionsEnded: Type.Integer({ minimum: 0 }) });

/**
 * Each route's answer schema (a success status), matched on the method and the path without its
 * query. The routes mirror server/src; an answer to a route not listed here is refused.
 */
const routes: [method: string, path: RegExp, schema: TSchema][] = [
  ['POST', /^\/api\/auth\/(register|login|refresh)$/, AuthResponse],
  ['POST', /^\/api\/auth\/logout$/, Empty],
  ['POST', /^\/api\/auth\/logout-all$/, SessionsEnded],
  ['GET', /^\/api\/auth\/rules$/, AccountRules],
  ['GET', /^\/api\/me$/, Me],
  ['PATCH', /^\/api\/me\/profile$/, Me],
  ['PUT', /^\/api\/me\/avatar$/, Type.Unknown()],
  ['DELETE', /^\/api\/me\/avatar$/, Type.Unknown()],
  ['PUT', /^\/api\/me\/keys$/, Type.Unknown()],
  ['PUT', /^\/api\/me\/backup$/, Type.Unknown()],
  ['GET', /^\/api\/me\/backup$/, BackupResponse],
  ['GET', /^\/api\/users$/, SearchPeopleResponse],
  ['GET', /^\/api\/users\/by-id\/[^/]+$/, PublicProfile],
  ['GET', /^\/api\/users\/by-id\/[^/]+\/keys$/, UserKeys],
  ['GET', /^\/api\/users\/[^/]+\/keys$/, UserKeys],
  ['GET', /^\/api\/users\/[^/]+\/keys\/history$/, KeyHistory],
  ['GET', /^\/api\/rooms$/, RoomList],
  ['POST', /^\/api\/rooms$/, Room],
  ['GET', /^\/api\/rooms\/[^/]+$/, Room],
  ['GET', /^\/api\/channels$/, ChannelPage],
  ['GET', /^\/api\/rooms\/[^/]+\/chain$/, ChainPage],
  ['POST', /^\/api\/rooms\/[^/]+\/chain$/, AppendChainResponse],
  ['POST', /^\/api\/rooms\/[^/]+\/join-requests$/, JoinRequestItem],
  ['GET', /^\/api\/rooms\/[^/]+\/join-requests$/, JoinRequestList],
  ['DELETE', /^\/api\/rooms\/[^/]+\/join-requests$/, Empty],
  ['GET', /^\/api\/join-requests$/, PendingJoinList],
  ['POST', /^\/api\/rooms\/[^/]+\/keys$/, PostKeysResponse],
  ['GET', /^\/api\/rooms\/[^/]+\/keys$/, RoomKeyList],
  ['GET', /^\/api\/rooms\/[^/]+\/messages$/, HistoryPage],
  ['POST', /^\/api\/rooms\/[^/]+\/receipts$/, Empty],
  ['GET', /^\/api\/rooms\/[^/]+\/receipts$/, ReceiptList],
  ['POST', /^\/api\/rooms\/[^/]+\/attachments$/, AttachmentUploaded],
  ['GET', /^\/api\/attachments\/limits$/, AttachmentLimits],
];

const answerChecks = routes.map(
  ([method, path, schema]) => [method, path, compile(schema)] as const,
);

/** Checks a JSON answer of `method path`; undefined when it passes. Never throws. */
export function checkAnswer(
  method: string,
  path: string,
  value: unknown,
): ProtocolViolation | undefined {
  const route = `${method} ${path.replace(/\/[^/]*[0-9a-f]{32}[^/]*/g, '/:id')}`;
  const found = answerChecks.find(([m, p]) => m === method && p.test(path));
  if (found === undefined) return violation('answer', route, '', 'no schema for this route');
  const failure = firstError(found[2], value);
  return failure === undefined ? undefined : { source: 'answer', type: route, ...failure };
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
