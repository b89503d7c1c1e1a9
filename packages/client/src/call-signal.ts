// Call signalling (PROTOCOL.md §6.7): the offers, answers, ICE candidates and hang-ups of a 1:1
// call, each the UTF-8 JSON `extra` of a `call` message, so signed and encrypted like any message.
// The offer and the answer name the sender's DTLS certificate fingerprint; a description whose
// a=fingerprint lines say anything else is refused, so whoever relays the messages (the server)
// cannot put its own certificate, and itself, in the media path. Also what a room's history says
// about its calls ("Call with bob, 2:13", "Missed call"). Free of imports, so that the web app's
// chat screen and the CLI read it without loading the client.

export const CALL_SIGNAL_VERSION = 1;
/** How long a call rings before it counts as missed. */
export const RING_TIMEOUT_MS = 30_000;
/** Hash functions a DTLS fingerprint may use (RFC 8122 names); SHA-1 and MD5 are refused. */
export const FINGERPRINT_ALGORITHMS = ['sha-256', 'sha-384', 'sha-512'] as const;
/** The largest SDP accepted; a real one is a few kilobytes. */
export const MAX_SDP_LENGTH = 32 * 1024;
/** ICE candidates one message carries at most. */
export const MAX_CANDIDATES = 32;

export type CallMedia = 'audio' | 'video';

export interface DtlsFingerprint {
  /** Lower-case RFC 8122 name, e.g. `sha-256`. */
  algorithm: string;
  /** Upper-case hex bytes separated by colons. */
  value: string;
}

export interface IceCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

export type CallDeclineReason = 'declined' | 'busy';
/** Why the sender ended a call: hung up, gave up ringing, refused the other's description, or its media failed. */
export type CallHangUpReason = 'hangup' | 'cancelled' | 'timeout' | 'refused' | 'failed';

export type CallSignal =
  | {
      type: 'offer';
      callId: string;
      media: CallMedia;
      sdp: string;
      fingerprint: DtlsFingerprint;
    }
  | { type: 'answer'; callId: string; sdp: string; fingerprint: DtlsFingerprint }
  | { type: 'ice'; callId: string; candidates: IceCandidate[] }
  | { type: 'decline'; callId: string; reason: CallDeclineReason }
  | { type: 'end'; callId: string; reason: CallHangUpReason };

/** Why a signalling message or a description was refused. */
export class CallSignalError extends Error {
  override readonly name = 'CallSignalError';
  constructor(
    readonly code: 'CALL_MALFORMED' | 'CALL_FINGERPRINT_MISMATCH',
    message: string,
  ) {
    super(message);
  }
}

/** The `extra` bytes of a `call` payload. */
export function encodeCallSignal(signal: CallSignal): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: CALL_SIGNAL_VERSION, ...signal }));
}

/** Reads a `call` payload's `extra`: CALL_MALFORMED unless it is a well-formed signal of version 1. */
export function parseCallSignal(extra: Uint8Array): CallSignal {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(extra));
  } catch {
    throw malformed('not UTF-8 JSON');
  }
  if (!isRecord(value) || value.v !== CALL_SIGNAL_VERSION)
    throw malformed('not a version 1 signal');
  const callId = value.callId;
  if (typeof callId !== 'string' || !/^[0-9a-f]{32}$/.test(callId))
    throw malformed('callId is not 16 bytes of hex');
  switch (value.type) {
    case 'offer': {
      const media = value.media;
      if (media !== 'audio' && media !== 'video') throw malformed('media is audio or video');
      const sdp = readSdp(value.sdp);
      const fingerprint = readFingerprint(value.fingerprint);
      return { type: 'offer', callId, media, sdp, fingerprint };
    }
    case 'answer':
      return {
        type: 'answer',
        callId,
        sdp: readSdp(value.sdp),
        fingerprint: readFingerprint(value.fingerprint),
      };
    case 'ice': {
      const list = value.candidates;
      if (!Array.isArray(list) || list.length > MAX_CANDIDATES)
        throw malformed(`candidates is a list of at most ${MAX_CANDIDATES}`);
      return { type: 'ice', callId, candidates: list.map(readCandidate) };
    }
    case 'decline':
      if (value.reason !== 'declined' && value.reason !== 'busy')
        throw malformed('a decline is declined or busy');
      return { type: 'decline', callId, reason: value.reason };
    case 'end': {
      const reasons: readonly unknown[] = ['hangup', 'cancelled', 'timeout', 'refused', 'failed'];
      if (!reasons.includes(value.reason)) throw malformed('unknown end reason');
      return { type: 'end', callId, reason: value.reason as CallHangUpReason };
    }
    default:
      throw malformed('unknown signal type');
  }
}

/** Every a=fingerprint line of an SDP (session and media level), normalised. */
export function sdpFingerprints(sdp: string): DtlsFingerprint[] {
  const out: DtlsFingerprint[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    const match = /^a=fingerprint:(\S+) (\S+)\s*$/.exec(line);
    if (match !== null)
      out.push({ algorithm: match[1]!.toLowerCase(), value: match[2]!.toUpperCase() });
  }
  return out;
}

export function sameFingerprint(a: DtlsFingerprint, b: DtlsFingerprint): boolean {
  return (
    a.algorithm.toLowerCase() === b.algorithm.toLowerCase() &&
    a.value.toUpperCase() === b.value.toUpperCase()
  );
}

/**
 * CALL_FINGERPRINT_MISMATCH unless the SDP names a fingerprint and every one it names is the
 * signed one: the browser then accepts only the certificate the signed message vouches for.
 */
export function checkSdpFingerprint(sdp: string, signed: DtlsFingerprint): void {
  const found = sdpFingerprints(sdp);
  if (found.length === 0)
    throw new CallSignalError(
      'CALL_FINGERPRINT_MISMATCH',
      'the description names no DTLS fingerprint',
    );
  if (!found.every((fingerprint) => sameFingerprint(fingerprint, signed)))
    throw new CallSignalError(
      'CALL_FINGERPRINT_MISMATCH',
      'the description’s DTLS fingerprint is not the one in the signed signalling',
    );
}

// ===== history =====

/** One call as the room's messages tell it. */
export interface CallRecord {
  callId: string;
  roomId: string;
  callerId: string;
  media: CallMedia;
  /** Whether this account placed the call. */
  outgoing: boolean;
  outcome: 'completed' | 'missed' | 'declined' | 'busy' | 'cancelled' | 'failed' | 'ongoing';
  /** When the offer was sent (ms since 1970; the server's time when known). */
  startedAt: number;
  /** From the answer to the hang-up; undefined unless answered and ended. */
  durationMs: number | undefined;
  /** The message (seq) that settled it, or the offer: where it belongs in the history. */
  seq: number;
}

/** What `callHistory` reads of a verified message. */
export interface CallMessage {
  roomId: string;
  seq: number;
  senderId: string;
  clientTime: number;
  sentAt: string | undefined;
  own: boolean;
  payload: { kind: string; extra: Uint8Array };
}

/**
 * The calls among `messages` (any order; the offer must be among them), oldest first. An offer that
 * nobody answered, declined or ended and that is older than the ring timeout at `now` was missed.
 */
export function callHistory(messages: readonly CallMessage[], now: number): CallRecord[] {
  const sorted = [...messages]
    .filter((m) => m.payload.kind === 'call')
    .sort((a, b) => a.seq - b.seq);
  const calls = new Map<string, CallRecord & { answeredAt?: number }>();
  for (const message of sorted) {
    let signal: CallSignal;
    try {
      signal = parseCallSignal(message.payload.extra);
    } catch {
      continue;
    }
    const time = timeOf(message);
    const known = calls.get(signal.callId);
    if (signal.type === 'offer') {
      if (known !== undefined) continue;
      calls.set(signal.callId, {
        callId: signal.callId,
        roomId: message.roomId,
        callerId: message.senderId,
        media: signal.media,
        outgoing: message.own,
        outcome: 'ongoing',
        startedAt: time,
        durationMs: undefined,
        seq: message.seq,
      });
      continue;
    }
    // Only the two parties settle a call, each with what is theirs to say.
    if (known === undefined || known.outcome !== 'ongoing') continue;
    const fromCaller = message.senderId === known.callerId;
    if (signal.type === 'answer' && !fromCaller && known.answeredAt === undefined) {
      known.answeredAt = time;
    } else if (signal.type === 'decline' && !fromCaller && known.answeredAt === undefined) {
      known.outcome = signal.reason === 'busy' ? 'busy' : 'declined';
      known.seq = message.seq;
    } else if (signal.type === 'end') {
      known.seq = message.seq;
      if (known.answeredAt !== undefined) {
        known.outcome =
          signal.reason === 'refused' || signal.reason === 'failed' ? 'failed' : 'completed';
        known.durationMs = Math.max(0, time - known.answeredAt);
      } else if (signal.reason === 'timeout') known.outcome = 'missed';
      else if (signal.reason === 'cancelled' || signal.reason === 'hangup')
        known.outcome = fromCaller ? 'cancelled' : 'declined';
      else known.outcome = 'failed';
    }
  }
  const out: CallRecord[] = [];
  for (const { answeredAt, ...record } of calls.values()) {
    if (
      record.outcome === 'ongoing' &&
      answeredAt === undefined &&
      now - record.startedAt > RING_TIMEOUT_MS
    )
      record.outcome = 'missed';
    out.push(record);
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** "Call with bob, 2:13", "Missed call from bob", in the reader's words. */
export function describeCall(record: CallRecord, peerName: string): string {
  const kind = record.media === 'video' ? 'Video call' : 'Call';
  switch (record.outcome) {
    case 'completed':
      return `${kind} with ${peerName}, ${formatDuration(record.durationMs ?? 0)}`;
    case 'missed':
      return record.outgoing
        ? `Missed call: ${peerName} did not answer`
        : `Missed call from ${peerName}`;
    case 'declined':
      return record.outgoing ? `${peerName} declined the call` : `Declined call from ${peerName}`;
    case 'busy':
      return `${peerName} was on another call`;
    case 'cancelled':
      return record.outgoing ? `Cancelled call to ${peerName}` : `Missed call from ${peerName}`;
    case 'failed':
      return `${kind} with ${peerName} failed`;
    case 'ongoing':
      return `${kind} with ${peerName}`;
  }
}

/** m:ss, or h:mm:ss from an hour. */
export function formatDuration(ms: number): string {
  const total = Math.floor(ms / 1000);
  const seconds = String(total % 60).padStart(2, '0');
  const minutes = Math.floor(total / 60) % 60;
  const hours = Math.floor(total / 3600);
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
    : `${minutes}:${seconds}`;
}

function timeOf(message: CallMessage): number {
  const stored = message.sentAt === undefined ? Number.NaN : Date.parse(message.sentAt);
  return Number.isNaN(stored) ? message.clientTime : stored;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(detail: string): CallSignalError {
  return new CallSignalError('CALL_MALFORMED', `call signal: ${detail}`);
}

function readSdp(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SDP_LENGTH)
    throw malformed(`sdp is a string of at most ${MAX_SDP_LENGTH} characters`);
  return value;
}

function readFingerprint(value: unknown): DtlsFingerprint {
  if (!isRecord(value) || typeof value.algorithm !== 'string' || typeof value.value !== 'string')
    throw malformed('fingerprint is { algorithm, value }');
  const algorithm = value.algorithm.toLowerCase();
  if (!(FINGERPRINT_ALGORITHMS as readonly string[]).includes(algorithm))
    throw malformed(`fingerprint algorithm is one of ${FINGERPRINT_ALGORITHMS.join(', ')}`);
  if (!/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){19,63}$/.test(value.value))
    throw malformed('fingerprint value is hex bytes separated by colons');
  return { algorithm, value: value.value.toUpperCase() };
}

function readCandidate(value: unknown): IceCandidate {
  if (!isRecord(value) || typeof value.candidate !== 'string' || value.candidate.length > 1024)
    throw malformed('a candidate is { candidate, sdpMid, sdpMLineIndex }');
  const { sdpMid, sdpMLineIndex } = value;
  if (sdpMid !== null && (typeof sdpMid !== 'string' || sdpMid.length > 64))
    throw malformed('sdpMid is a short string or null');
  if (sdpMLineIndex !== null && (!Number.isInteger(sdpMLineIndex) || (sdpMLineIndex as number) < 0))
    throw malformed('sdpMLineIndex is an index or null');
  return { candidate: value.candidate, sdpMid, sdpMLineIndex: sdpMLineIndex as number | null };
}
