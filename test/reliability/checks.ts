// The guarantee a reliability run checks, as pure functions over what the run recorded: the stored
// history, the acknowledgements, what each client received, and the frames on each socket. Each
// returns the ways the guarantee was broken (empty when it held), so a report can list them all.

/** A message as the server's history holds it (its header decoded). */
import type { RecordedFrame } from './network';
export interface StoredMessage {
  seq: number;
  messageId: string;
  senderId: string;
  /** The sender's per-room counter: a sender's messages in the order they were sent. */
  counter: number;
}

/** A message a member sent: who, its number in that member's sequence, and its text. */
export interface SentMessage {
  sender: number;
  number: number;
  text: string;
}

/** A sequence number the server acknowledged for a message (an `acked` event or an ack frame). */
export interface Acknowledgement {
  member: number;
  messageId: string;
  seq: number;
}

/** A message as a client delivered it to the application. */
export interface Delivery {
  seq: number;
  messageId: string;
  text: string;
}

/** A frame that crossed one socket of a client, in order (as the client network records it). */
export type SocketFrame = RecordedFrame;

/**
 * The stored history: sequence numbers 1, 2, 3... with no hole, each sent message exactly once
 * and nothing else, each acknowledgement naming the seq the message is stored at, and each
 * sender's messages in the order it sent them.
 */
export function checkHistory(
  history: readonly StoredMessage[],
  sent: ReadonlyMap<string, SentMessage>,
  acknowledgements: readonly Acknowledgement[],
): string[] {
  const problems: string[] = [];
  history.forEach((message, index) => {
    if (message.seq !== index + 1) {
      problems.push(`history: position ${index + 1} holds seq ${message.seq}`);
    }
  });
  const seqById = new Map<string, number>();
  for (const message of history) {
    const earlier = seqById.get(message.messageId);
    if (earlier !== undefined) {
      problems.push(
        `history: ${describe(sent, message.messageId)} stored at ${earlier} and ${message.seq}`,
      );
    } else {
      seqById.set(message.messageId, message.seq);
    }
    if (!sent.has(message.messageId)) {
      problems.push(`history: seq ${message.seq} is no message a member sent`);
    }
  }
  for (const [messageId, message] of sent) {
    if (!seqById.has(messageId)) problems.push(`history: ${message.text} is missing`);
  }
  for (const { member, messageId, seq } of acknowledgements) {
    const stored = seqById.get(messageId);
    if (stored !== seq) {
      problems.push(
        `member ${member}: ${describe(sent, messageId)} acknowledged as ${seq}, stored at ${stored ?? 'nothing'}`,
      );
    }
  }
  const lastCounter = new Map<string, number>();
  for (const message of history) {
    const previous = lastCounter.get(message.senderId) ?? 0;
    if (message.counter <= previous) {
      problems.push(`history: seq ${message.seq} has counter ${message.counter} after ${previous}`);
    }
    lastCounter.set(message.senderId, message.counter);
  }
  return problems;
}

/**
 * What one member's client delivered: exactly the stored history, once each, in its order, with
 * the texts that were sent; so each sender's numbers read 1, 2, ... `rounds`.
 */
export function checkDelivery(
  member: number,
  delivered: readonly Delivery[],
  history: readonly StoredMessage[],
  sent: ReadonlyMap<string, SentMessage>,
  rounds: number,
): string[] {
  const problems: string[] = [];
  const who = `member ${member}`;
  const got = delivered.map((message) => `${message.seq}:${message.messageId}`);
  const want = history.map((message) => `${message.seq}:${message.messageId}`);
  if (got.join(',') !== want.join(',')) {
    const twice = got.length - new Set(got).size;
    problems.push(
      `${who}: delivered ${got.length} messages (${twice} of them twice), history has ${want.length}; ` +
        `first difference at ${firstDifference(got, want)}`,
    );
  }
  const numbers = new Map<number, number[]>();
  for (const message of delivered) {
    const original = sent.get(message.messageId);
    if (original === undefined || original.text !== message.text) {
      problems.push(`${who}: delivered "${message.text}", which nobody sent as such`);
      continue;
    }
    numbers.set(original.sender, [...(numbers.get(original.sender) ?? []), original.number]);
  }
  const expected = Array.from({ length: rounds }, (_, i) => i + 1).join(',');
  for (const [sender, list] of numbers) {
    if (list.join(',') !== expected) {
      problems.push(`${who}: from member ${sender} delivered #${list.join(',#')}`);
    }
  }
  return problems;
}

/**
 * On each socket, the room's message frames after a `subscribed` follow one another with no gap
 * and no repeat: the server's replay-then-live seam, whatever happened to earlier sockets.
 */
export function checkSocketOrder(
  member: number,
  frames: readonly SocketFrame[],
  roomId: string,
): string[] {
  const problems: string[] = [];
  const last = new Map<number, number | undefined>();
  for (const { socket, direction, frame } of frames) {
    if (direction !== 'in' || frame.room !== roomId) continue;
    if (frame.type === 'subscribed') {
      last.set(socket, undefined);
      continue;
    }
    if (frame.type !== 'message') continue;
    const seq = Number(frame.seq);
    const previous = last.get(socket);
    if (previous !== undefined && seq !== previous + 1) {
      problems.push(`member ${member}: socket ${socket} got seq ${seq} right after ${previous}`);
    }
    last.set(socket, seq);
  }
  return problems;
}

/** Every acknowledgement frame a client received for the room, as acknowledgements. */
export function ackFrames(
  member: number,
  frames: readonly SocketFrame[],
  roomId: string,
): Acknowledgement[] {
  return frames
    .filter(
      ({ direction, frame }) => direction === 'in' && frame.type === 'ack' && frame.room === roomId,
    )
    .map(({ frame }) => ({ member, messageId: String(frame.messageId), seq: Number(frame.seq) }));
}

/** Send frames beyond the first for each envelope: the client's retries. */
export function resendCount(frames: readonly SocketFrame[]): number {
  const seen = new Set<string>();
  let resends = 0;
  for (const { direction, frame } of frames) {
    if (direction !== 'out' || frame.type !== 'send') continue;
    const envelope = String(frame.envelope);
    if (seen.has(envelope)) resends += 1;
    else seen.add(envelope);
  }
  return resends;
}

function describe(sent: ReadonlyMap<string, SentMessage>, messageId: string): string {
  return sent.get(messageId)?.text ?? messageId;
}

function firstDifference(a: readonly string[], b: readonly string[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `#${i}: got ${a[i] ?? 'nothing'}, history ${b[i] ?? 'nothing'}`;
  }
  return 'none';
}
