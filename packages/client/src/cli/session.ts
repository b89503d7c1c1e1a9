// Every command runs the same way: open the key store under --home, talk to --server, report a
// failure on standard error with exit code 1, and close the client whatever happened. The lookups
// here turn what a person types (a room name, `#12`) into what the client asks for.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { Client, ReceivedMessage } from '../index';
import { createClient } from '../index';
import { FileKeyStore, nodeTransport } from '../node';
import { printError } from './output';

interface GlobalOptions {
  server: string;
  home: string;
}

export type WithClient = (action: (client: Client) => Promise<void>) => Promise<void>;

/** Runs command actions with a client on the program's global options (read when a command runs). */
export function clientRunner(program: Command): WithClient {
  return async (action) => {
    const options = program.opts<GlobalOptions>();
    let client: Client | undefined;
    try {
      const keyStore = await FileKeyStore.open(join(options.home, 'keys.json'));
      client = await createClient({
        transport: nodeTransport(options.server),
        keyStore,
        deviceName: cliDeviceName(),
      });
      await action(client);
    } catch (error) {
      printError(error);
      process.exitCode = 1;
    } finally {
      await client?.close();
    }
  };
}

/**
 * What this command line is called in the session list: PARLEY_DEVICE_NAME, or "parley CLI on"
 * the machine's name, cut to the 64 characters the server takes.
 */
export function cliDeviceName(): string {
  const given = process.env.PARLEY_DEVICE_NAME?.trim();
  if (given !== undefined && given !== '') return given;
  // eslint-disable-next-line no-control-regex -- a host name with control characters is refused
  const host = hostname().replace(/[\u0000-\u001f\u007f]/g, '');
  return `parley CLI on ${host === '' ? 'this machine' : host}`.slice(0, 64);
}

/**
 * A room by id or name. One this machine does not know yet (added while it was offline) is looked
 * for on the server first.
 */
export async function resolveRoom(client: Client, reference: string): Promise<string> {
  const name = reference.replace(/^#/, '');
  const find = () =>
    client.listRooms().find((room) => room.roomId === reference || room.info.name === name);
  if (find() === undefined) await client.syncRooms();
  const match = find();
  if (match === undefined) throw new Error(`no room ${reference} among your rooms`);
  return match.roomId;
}

/** `#12` or `12`: a message's sequence number in its room. */
export function seqOf(text: string): number {
  const match = /^#?(\d+)$/.exec(text);
  if (match === null) throw new Error(`${text}: expected #seq, e.g. #12`);
  return Number(match[1]);
}

export async function messageAt(
  client: Client,
  roomId: string,
  seq: number,
): Promise<ReceivedMessage> {
  const [message] = await client.history(roomId, { before: seq + 1, limit: 1 });
  if (message === undefined || message.seq !== seq) throw new Error(`no message #${seq}`);
  return message;
}

/** A secret from the environment (scripts) or a prompt that does not echo (people). */
export async function secret(variable: string, prompt: string): Promise<string> {
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
