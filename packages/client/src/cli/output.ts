// What the command line prints. Results go to standard output, one per line, so that scripts can
// read them; progress, warnings and errors go to standard error. Anything a sender chose (names,
// texts, file names) passes through `printable` first so that it cannot drive the terminal.
import type {
  Client,
  MembershipLine,
  ReceivedMessage,
  RoomView,
  VerificationFailure,
} from '../index';
import { isClientError } from '../index';
import { describeMembership, describeTimer } from '../membership-words';

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Progress, on standard error so that standard output stays the result. */
export function status(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printError(error: unknown): void {
  const text = isClientError(error)
    ? `${error.code}: ${error.message}`
    : String((error as Error)?.message ?? error);
  process.stderr.write(`parley: ${text}\n`);
}

export function printFailure(failure: VerificationFailure): void {
  process.stderr.write(`! ${failure.severity} ${failure.code}: ${failure.detail}\n`);
}

export function describeRoom(client: Client, room: RoomView): string {
  const names = [...room.members]
    .map(([userId, role]) => {
      const name =
        userId === client.me?.userId
          ? client.me.username
          : (client.contact(userId)?.username ?? userId.slice(0, 8));
      return role === 'admin' ? `${name}*` : name;
    })
    .join(', ');
  const timer =
    room.messageTimer === 0 ? '' : `  messages disappear after ${describeTimer(room.messageTimer)}`;
  return `${room.roomId}  ${room.kind ?? '?'}  ${room.info.name ?? ''}  epoch ${room.epoch}  [${names}]${timer}`;
}

/** What an edit, reaction or delete says; plain texts and calls have no such words. */
const actionWords = {
  text: undefined,
  call: undefined,
  edit: 'edited a message',
  reaction: 'reacted',
  delete: 'deleted a message',
} as const;

/** A message as a line, and one more line for each file: `#seq.n name (size, type)`. */
export function formatMessage(message: ReceivedMessage): string {
  const time = new Date(message.clientTime).toISOString().slice(11, 19);
  const flag = message.status === 'new' ? '' : ` (${message.status})`;
  const files = message.payload.attachments.map(
    (file, index) =>
      `\n    file #${message.seq}.${index + 1} ${printable(file.name)} (${file.size} bytes, ${printable(file.mediaType)})`,
  );
  const sender = message.senderName ?? message.senderId.slice(0, 8);
  const action = actionWords[message.payload.kind];
  if (action !== undefined) {
    const text = message.payload.kind === 'delete' ? '' : `: ${printable(message.text)}`;
    return `[${time}] #${message.seq} * ${sender} ${action}${text}${flag}`;
  }
  const reply = message.payload.replyTo.length > 0 ? ' (reply)' : '';
  return `[${time}] #${message.seq} ${sender}${reply}: ${message.text}${flag}${files.join('')}`;
}

export function formatMembership(client: Client, line: MembershipLine): string {
  const time = line.at === undefined ? '--:--:--' : line.at.slice(11, 19);
  const nameOf = (userId: string) =>
    printable(client.contact(userId)?.username ?? userId.slice(0, 8));
  const kind = client.room(line.roomId).kind;
  return `[${time}] * ${describeMembership(line, client.me?.userId, nameOf, kind)}`;
}

/** A sender's string with terminal control characters taken out. */
export function printable(text: string): string {
  return [...text]
    .filter((character) => {
      const code = character.codePointAt(0)!;
      return code >= 0x20 && (code < 0x7f || code > 0x9f);
    })
    .join('');
}
