// `parley calls <room>`: the calls of a direct conversation, from its encrypted history. A terminal
// cannot carry audio or video, so calls are placed and answered in the web app; this only lists them.
import type { Command } from 'commander';
import { describeCall } from '../call-signal';
import { print, printable } from './output';
import { clientRunner, resolveRoom } from './session';

export function registerCallCommands(program: Command): void {
  const withClient = clientRunner(program);

  program
    .command('calls <room>')
    .description(
      'list the calls of a direct conversation (calls themselves need the web app: a terminal has no camera or speaker)',
    )
    .option('--pages <n>', 'how many pages of 100 messages to read back', '10')
    .action((room: string, options: { pages: string }) =>
      withClient(async (client) => {
        const roomId = await resolveRoom(client, room);
        const view = client.room(roomId);
        if (view.kind !== 'direct') throw new Error(`${room} is not a direct conversation`);
        const peerId = [...view.members.keys()].find((userId) => userId !== client.me?.userId);
        const peer = peerId === undefined ? undefined : client.contact(peerId);
        const name = printable(peer?.username ?? peerId?.slice(0, 8) ?? 'them');
        const records = await client.callHistory(roomId, { pages: Number(options.pages) });
        if (records.length === 0) print('No calls.');
        for (const record of records) {
          const when = new Date(record.startedAt).toISOString().slice(0, 16).replace('T', ' ');
          print(`[${when}] ${describeCall(record, name)}`);
        }
      }),
    );
}
