// Messages in a room: sending texts and files, replying, editing, reacting, deleting, saving a
// received file, and following the room live. Files are encrypted here before upload and saved
// under a cleaned-up name that never replaces a file already on disk.
import { open, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import mime from 'mime';
import type { AttachmentDescriptor, Client } from '../index';
import {
  formatMembership,
  formatMessage,
  print,
  printable,
  printError,
  printFailure,
  status,
} from './output';
import { clientRunner, messageAt, resolveRoom, seqOf } from './session';

export function registerMessageCommands(program: Command): void {
  const withClient = clientRunner(program);

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
            throw new Error(
              `${path} is ${data.length} bytes; the server takes files up to ${limit}`,
            );
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
          print(
            `saved ${await saveNew(options.out, attachment.name, data)} (${data.length} bytes)`,
          );
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
    .command('search <query...>')
    .description(
      'search your history on this machine (nothing is sent to the server), grouped by room',
    )
    .option('--room <room>', 'only this room')
    .option('--limit <n>', 'at most n results', '20')
    .option('--no-sync', 'search what is here without reading new messages first')
    .action((words: string[], options: { room?: string; limit: string; sync: boolean }) =>
      withClient(async (client) => {
        const roomId =
          options.room === undefined ? undefined : await resolveRoom(client, options.room);
        // New messages are read first (the server is asked for ciphertext, never for the query).
        if (options.sync) await client.syncRooms();
        const hits = await client.search(words.join(' '), {
          ...(roomId === undefined ? {} : { roomId }),
          limit: Number(options.limit),
        });
        if (hits.length === 0) {
          print('no messages found');
          return;
        }
        // Grouped by room, the room of the best result first, each room's results best first.
        const byRoom = new Map<string, typeof hits>();
        for (const hit of hits) byRoom.set(hit.roomId, [...(byRoom.get(hit.roomId) ?? []), hit]);
        for (const group of byRoom.values()) {
          print(`${printable(group[0]!.roomName || group[0]!.roomId.slice(0, 8))}:`);
          for (const hit of group) {
            const snippet = hit.snippet
              .map((part) => (part.match ? `[${printable(part.text)}]` : printable(part.text)))
              .join('');
            const time = hit.time.slice(0, 16).replace('T', ' ');
            print(`  #${hit.seq} ${time} ${printable(hit.senderName)}: ${snippet}`);
          }
        }
      }),
    );
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
