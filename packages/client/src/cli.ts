#!/usr/bin/env tsx
// `parley`: the command-line client on @parley/client, for people, bots and scripts.
// Keys live in $PARLEY_HOME/keys.json (default ~/.parley), readable only by their owner.
// Secrets come from a hidden prompt, or from PARLEY_PASSWORD / PARLEY_PASSPHRASE for scripts.
import { open, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import mime from 'mime';
import type {
  AttachmentDescriptor,
  Client,
  MembershipLine,
  ReceivedMessage,
  RoomView,
  VerificationFailure,
} from './index';
import { createClient, isClientError } from './index';
import { describeMembership } from './membership-words';
import { FileKeyStore, nodeTransport } from './node';

interface GlobalOptions {
  server: string;
  home: string;
}

const program = new Command()
  .name('parley')
  .description('Parley, end-to-end encrypted chat, from the command line')
  .option('-s, --server <url>', 'server URL', process.env.PARLEY_SERVER ?? 'http://localhost:3000')
  .option(
    '--home <dir>',
    'where keys are kept',
    process.env.PARLEY_HOME ?? join(homedir(), '.parley'),
  )
  .showHelpAfterError();

program
  .command('signup <username>')
  .description('create an account; keys are made on this machine and backed up under a passphrase')
  .option('--no-backup', 'no key backup (a bot whose keys live only here)')
  .action((username: string, options: { backup: boolean }) =>
    withClient(async (client) => {
      const password = await secret('PARLEY_PASSWORD', 'Password: ');
      const passphrase = options.backup
        ? await secret('PARLEY_PASSPHRASE', 'Backup passphrase (not the password): ')
        : undefined;
      const me = await client.signUp({ username, password, passphrase });
      print(`Signed up as ${me.username} (${me.userId}). Fingerprint ${me.fingerprint}`);
    }),
  );

program
  .command('login <username>')
  .description('log in on this machine (which holds the keys already; else use restore)')
  .action((username: string) =>
    withClient(async (client) => {
      await client.logIn({ username, password: await secret('PARLEY_PASSWORD', 'Password: ') });
      print(
        client.me === undefined
          ? 'Logged in; no keys here yet: run `parley restore`.'
          : `Logged in as ${username}.`,
      );
    }),
  );

program
  .command('restore <username>')
  .description('restore the keys on this machine from the backup, then read every room')
  .action((username: string) =>
    withClient(async (client) => {
      const password = await secret('PARLEY_PASSWORD', 'Password: ');
      const passphrase = await secret('PARLEY_PASSPHRASE', 'Backup passphrase: ');
      const me = await client.restore({ username, password, passphrase });
      print(`Restored ${me.username}; ${client.listRooms().length} room(s).`);
    }),
  );

program
  .command('logout')
  .option('--forget', 'also erase the keys on this machine (only the backup can restore them)')
  .action((options: { forget?: boolean }) =>
    withClient(async (client) => {
      await client.logOut({ forget: options.forget === true });
      print('Logged out.');
    }),
  );

program.command('whoami').action(() =>
  withClient(async (client) => {
    const me = client.me;
    print(
      me === undefined
        ? 'No account on this machine.'
        : `${me.username} ${me.userId}\nfingerprint ${me.fingerprint}`,
    );
  }),
);

program
  .command('rooms')
  .description('list your rooms (brought up to date first)')
  .action(() =>
    withClient(async (client) => {
      await client.syncRooms();
      for (const room of client.listRooms()) print(describeRoom(client, room));
    }),
  );

program
  .command('channels [query]')
  .description('browse public channels by name, topic or tag')
  .option('-t, --tag <tag>', 'only channels with this tag')
  .action((query: string | undefined, options: { tag?: string }) =>
    withClient(async (client) => {
      const { channels } = await client.browseChannels({ q: query, tag: options.tag });
      for (const channel of channels) {
        print(
          `${channel.roomId}  #${channel.name}  ${channel.topic}  ${channel.tags.map((t) => `[${t}]`).join(' ')}`,
        );
      }
    }),
  );

program
  .command('create-channel <name>')
  .requiredOption('--topic <topic>', 'what the channel is about')
  .option('--tag <tag...>', 'tags people can find it by')
  .action((name: string, options: { topic: string; tag?: string[] }) =>
    withClient(async (client) => {
      const room = await client.createChannel({
        name,
        topic: options.topic,
        tags: options.tag ?? [],
      });
      print(room.roomId);
    }),
  );

program.command('create-group <name> [members...]').action((name: string, members: string[]) =>
  withClient(async (client) => {
    const room = await client.createGroup({ name, members });
    print(room.roomId);
  }),
);

program
  .command('dm <username>')
  .description('start (or find) a direct conversation')
  .action((username: string) =>
    withClient(async (client) => {
      print((await client.createDirect(username)).roomId);
    }),
  );

program
  .command('join <room>')
  .description('ask to join a channel by id; a member online lets you in, now or later')
  .option('--wait <seconds>', 'how long to wait to be let in', '30')
  .action((room: string, options: { wait: string }) =>
    withClient(async (client) => {
      client.connect();
      try {
        const view = await client.join(room, { timeoutMs: Number(options.wait) * 1000 });
        print(`Joined ${view.info.name ?? view.roomId}.`);
      } catch (error) {
        if (!isClientError(error, 'TIMEOUT')) throw error;
        print(
          'Waiting for a member to come online; you will be let in automatically ' +
            '(`parley requests` lists what waits, `parley cancel-join` withdraws it).',
        );
      }
    }),
  );

program
  .command('requests')
  .description('your join requests that no member has answered yet')
  .action(() =>
    withClient(async (client) => {
      for (const request of await client.pendingJoins()) {
        print(`${request.roomId}  #${request.name}  asked ${request.requestedAt}`);
      }
    }),
  );

program.command('cancel-join <room>').action((room: string) =>
  withClient(async (client) => {
    await client.cancelJoin(room);
    print('Request withdrawn.');
  }),
);

for (const op of ['add', 'remove', 'promote', 'demote'] as const) {
  program
    .command(`${op} <room> <username>`)
    .description(`${op} a member of a group or channel (admins)`)
    .action((room: string, username: string) =>
      withClient(async (client) => {
        const roomId = await resolveRoom(client, room);
        const user = await client.lookUp(username);
        const methods = {
          add: client.addMember,
          remove: client.removeMember,
          promote: client.promote,
          demote: client.demote,
        };
        const view = await methods[op].call(client, roomId, user.userId);
        print(describeRoom(client, view));
      }),
    );
}

program.command('leave <room>').action((room: string) =>
  withClient(async (client) => {
    await client.leave(await resolveRoom(client, room));
    print('Left.');
  }),
);

program
  .command('rename <room> <name...>')
  .description('rename a group or channel (admins)')
  .action((room: string, words: string[]) =>
    withClient(async (client) => {
      const view = await client.updateRoom(await resolveRoom(client, room), {
        name: words.join(' '),
      });
      print(describeRoom(client, view));
    }),
  );

program
  .command('set-topic <room> <topic...>')
  .description("edit a group's or channel's topic (admins)")
  .action((room: string, words: string[]) =>
    withClient(async (client) => {
      const view = await client.updateRoom(await resolveRoom(client, room), {
        topic: words.join(' '),
      });
      print(`${describeRoom(client, view)}\n  topic: ${view.info.topic ?? ''}`);
    }),
  );

program
  .command('delete-room <room>')
  .description('delete a group or channel with its messages and files, for everyone (admins)')
  .action((room: string) =>
    withClient(async (client) => {
      await client.deleteRoom(await resolveRoom(client, room));
      print('Deleted.');
    }),
  );

program
  .command('send <room> <text...>')
  .description('send a message and wait until the server has it')
  .action((room: string, words: string[]) =>
    withClient(async (client) => {
      const roomId = await resolveRoom(client, room);
      client.connect();
      const { messageId } = await client.send(roomId, words.join(' '));
      const seq = await client.acked(messageId);
      print(`sent #${seq}`);
    }),
  );

program
  .command('send-file <room> <files...>')
  .description('send files, encrypted here, in one message (with --text, a caption)')
  .option('--text <text>', 'a caption sent with them', '')
  .action((room: string, paths: string[], options: { text: string }) =>
    withClient(async (client) => {
      const roomId = await resolveRoom(client, room);
      const limit = await client.attachmentLimit();
      const files = [];
      for (const path of paths) {
        const data = new Uint8Array(await readFile(path));
        if (data.length > limit) {
          throw new Error(`${path} is ${data.length} bytes; the server takes files up to ${limit}`);
        }
        const name = basename(path);
        files.push({ data, name, mediaType: mime.getType(name) ?? 'application/octet-stream' });
      }
      client.connect();
      const { messageId } = await client.sendFiles(roomId, files, options.text, {
        onProgress: (p) => {
          if (p.stage === 'uploading') status(`uploading ${p.file + 1}/${p.files}`);
        },
      });
      const seq = await client.acked(messageId);
      print(`sent #${seq} with ${files.length} file(s)`);
    }),
  );

program
  .command('reply <room> <message> <text...>')
  .description('reply to a message (#seq, as `follow` shows it)')
  .action((room: string, target: string, words: string[]) =>
    withClient(async (client) => {
      const roomId = await resolveRoom(client, room);
      const { messageId } = await messageAt(client, roomId, seqOf(target));
      client.connect();
      print(
        `sent #${await client.acked((await client.reply(roomId, messageId, words.join(' '))).messageId)}`,
      );
    }),
  );

program
  .command('edit <room> <message> <text...>')
  .description('replace the text of one of your messages')
  .action((room: string, target: string, words: string[]) =>
    withClient(async (client) => {
      const roomId = await resolveRoom(client, room);
      const { messageId } = await messageAt(client, roomId, seqOf(target));
      client.connect();
      print(
        `sent #${await client.acked((await client.edit(roomId, messageId, words.join(' '))).messageId)}`,
      );
    }),
  );

program
  .command('react <room> <message> [emoji]')
  .description('react to a message; without an emoji, take your reaction back')
  .action((room: string, target: string, emoji: string | undefined) =>
    withClient(async (client) => {
      const roomId = await resolveRoom(client, room);
      const { messageId } = await messageAt(client, roomId, seqOf(target));
      client.connect();
      print(
        `sent #${await client.acked((await client.react(roomId, messageId, emoji ?? '')).messageId)}`,
      );
    }),
  );

program
  .command('delete <room> <message>')
  .description("delete a message for everyone: yours, or anyone's in a room you administer")
  .action((room: string, target: string) =>
    withClient(async (client) => {
      const roomId = await resolveRoom(client, room);
      const { messageId } = await messageAt(client, roomId, seqOf(target));
      client.connect();
      print(
        `sent #${await client.acked((await client.deleteMessage(roomId, messageId)).messageId)}`,
      );
    }),
  );

program
  .command('download <room> <file>')
  .description('save a file of a message, decrypted: <file> is #seq.n as `follow` shows it')
  .option('-o, --out <dir>', 'the directory to save into', '.')
  .action((room: string, file: string, options: { out: string }) =>
    withClient(async (client) => {
      const roomId = await resolveRoom(client, room);
      const match = /^#?(\d+)(?:\.(\d+))?$/.exec(file);
      if (match === null) throw new Error(`${file}: expected #seq or #seq.n, e.g. #12.1`);
      const seq = Number(match[1]);
      const message = await messageAt(client, roomId, seq);
      const chosen =
        match[2] === undefined
          ? message.payload.attachments
          : [message.payload.attachments[Number(match[2]) - 1]];
      if (chosen.length === 0 || chosen[0] === undefined) {
        throw new Error(`message #${seq} has no file ${file}`);
      }
      for (const attachment of chosen as AttachmentDescriptor[]) {
        const data = await client.downloadAttachment(attachment);
        print(`saved ${await saveNew(options.out, attachment.name, data)} (${data.length} bytes)`);
      }
    }),
  );

program
  .command('follow <room>')
  .description('print the room as it happens; lines typed on standard input are sent')
  .option('--history <n>', 'print the last n messages first', '20')
  .action((room: string, options: { history: string }) =>
    withClient(async (client) => {
      const roomId = await resolveRoom(client, room);
      client.on('verification-failed', (failure) => printFailure(failure));
      client.on('message', (message) => {
        if (message.roomId === roomId) print(formatMessage(message));
      });
      client.on('membership', (change) => {
        if (change.roomId !== roomId) return;
        for (const line of change.changes) print(formatMembership(client, line));
      });
      for (const message of await client.history(roomId, { limit: Number(options.history) })) {
        print(formatMessage(message));
      }
      client.connect();
      await client.connected();
      const lines = createInterface({ input: process.stdin, terminal: false });
      lines.on('line', (line) => {
        if (line.trim() === '') return;
        client.send(roomId, line).catch((error: unknown) => printError(error));
      });
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
        // Standard input closed (a pipe ran out): stay only while messages wait to be sent.
        lines.once('close', () => void drain(client, roomId).then(resolve));
      });
    }),
  );

program
  .command('safety-number <username>')
  .description('the number to compare with a contact, and mark them verified with --verified')
  .option('--verified', 'you compared the numbers and they match')
  .action((username: string, options: { verified?: boolean }) =>
    withClient(async (client) => {
      const contact = await client.lookUp(username);
      const number = client.safetyNumber(contact.userId);
      print(number.grouped);
      if (options.verified === true) await client.verifyContact(contact.userId);
      if (contact.pendingChange !== undefined)
        print(`! ${username}'s keys changed since they were pinned`);
    }),
  );

program.command('accept-key-change <username>').action((username: string) =>
  withClient(async (client) => {
    const contact = await client.lookUp(username);
    await client.acceptKeyChange(contact.userId);
    print(`Now trusting ${username}'s new keys.`);
  }),
);

await program.parseAsync();

// ----- helpers -----

async function withClient(action: (client: Client) => Promise<void>): Promise<void> {
  const options = program.opts<GlobalOptions>();
  let client: Client | undefined;
  try {
    const keyStore = await FileKeyStore.open(join(options.home, 'keys.json'));
    client = await createClient({ transport: nodeTransport(options.server), keyStore });
    await action(client);
  } catch (error) {
    printError(error);
    process.exitCode = 1;
  } finally {
    await client?.close();
  }
}

/**
 * A room by id or name. One this machine does not know yet (added while it was offline) is looked
 * for on the server first.
 */
async function resolveRoom(client: Client, reference: string): Promise<string> {
  const name = reference.replace(/^#/, '');
  const find = () =>
    client.listRooms().find((room) => room.roomId === reference || room.info.name === name);
  if (find() === undefined) await client.syncRooms();
  const match = find();
  if (match === undefined) throw new Error(`no room ${reference} among your rooms`);
  return match.roomId;
}

/**
 * Writes a received file under `dir` with the sender's name for it, reduced to a plain file name
 * (no directories, no dot files), never replacing a file: "name (2).ext" when it exists.
 */
async function saveNew(dir: string, suggested: string, data: Uint8Array): Promise<string> {
  const plain = printable(basename(suggested.replaceAll('\\', '/'))).replace(/^\.+/, '');
  const name = plain === '' ? 'download' : plain;
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? name : `${stem} (${n})${extension}`);
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

async function drain(client: Client, roomId: string): Promise<void> {
  while (client.pendingMessages(roomId).length > 0) {
    await client.next('acked');
  }
}

function describeRoom(client: Client, room: RoomView): string {
  const names = [...room.members]
    .map(([userId, role]) => {
      const name =
        userId === client.me?.userId
          ? client.me.username
          : (client.contact(userId)?.username ?? userId.slice(0, 8));
      return role === 'admin' ? `${name}*` : name;
    })
    .join(', ');
  return `${room.roomId}  ${room.kind ?? '?'}  ${room.info.name ?? ''}  epoch ${room.epoch}  [${names}]`;
}

/** A message as a line, and one more line for each file: `#seq.n name (size, type)`. */
/** `#12` or `12`: a message's sequence number in its room. */
function seqOf(text: string): number {
  const match = /^#?(\d+)$/.exec(text);
  if (match === null) throw new Error(`${text}: expected #seq, e.g. #12`);
  return Number(match[1]);
}

async function messageAt(client: Client, roomId: string, seq: number): Promise<ReceivedMessage> {
  const [message] = await client.history(roomId, { before: seq + 1, limit: 1 });
  if (message === undefined || message.seq !== seq) throw new Error(`no message #${seq}`);
  return message;
}

function formatMessage(message: ReceivedMessage): string {
  const time = new Date(message.clientTime).toISOString().slice(11, 19);
  const flag = message.status === 'new' ? '' : ` (${message.status})`;
  const files = message.payload.attachments.map(
    (file, index) =>
      `\n    file #${message.seq}.${index + 1} ${printable(file.name)} (${file.size} bytes, ${printable(file.mediaType)})`,
  );
  const sender = message.senderName ?? message.senderId.slice(0, 8);
  // What an edit, reaction or delete says (inside the function: helpers below the top-level
  // parseAsync are not initialised yet while a command runs, unless they are declarations).
  const action = {
    text: undefined,
    call: undefined,
    edit: 'edited a message',
    reaction: 'reacted',
    delete: 'deleted a message',
  }[message.payload.kind];
  if (action !== undefined) {
    const text = message.payload.kind === 'delete' ? '' : `: ${printable(message.text)}`;
    return `[${time}] #${message.seq} * ${sender} ${action}${text}${flag}`;
  }
  const reply = message.payload.replyTo.length > 0 ? ' (reply)' : '';
  return `[${time}] #${message.seq} ${sender}${reply}: ${message.text}${flag}${files.join('')}`;
}

function formatMembership(client: Client, line: MembershipLine): string {
  const time = line.at === undefined ? '--:--:--' : line.at.slice(11, 19);
  const nameOf = (userId: string) =>
    printable(client.contact(userId)?.username ?? userId.slice(0, 8));
  const kind = client.room(line.roomId).kind;
  return `[${time}] * ${describeMembership(line, client.me?.userId, nameOf, kind)}`;
}

/** A sender's string with terminal control characters taken out. */
function printable(text: string): string {
  return [...text]
    .filter((character) => {
      const code = character.codePointAt(0)!;
      return code >= 0x20 && (code < 0x7f || code > 0x9f);
    })
    .join('');
}

function printFailure(failure: VerificationFailure): void {
  process.stderr.write(`! ${failure.severity} ${failure.code}: ${failure.detail}\n`);
}

function printError(error: unknown): void {
  const text = isClientError(error)
    ? `${error.code}: ${error.message}`
    : String((error as Error)?.message ?? error);
  process.stderr.write(`parley: ${text}\n`);
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Progress, on standard error so that standard output stays the result. */
function status(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A secret from the environment (scripts) or a prompt that does not echo (people). */
async function secret(variable: string, prompt: string): Promise<string> {
  const fromEnvironment = process.env[variable];
  if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment;
  if (!process.stdin.isTTY) throw new Error(`set ${variable} or run in a terminal`);
  process.stdout.write(prompt);
  // The terminal echoes through readline's output: give it one that shows nothing.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const lines = createInterface({ input: process.stdin, output: silent, terminal: true });
  try {
    return await new Promise<string>((resolve) => lines.once('line', resolve));
  } finally {
    process.stdout.write('\n');
    lines.close();
  }
}
