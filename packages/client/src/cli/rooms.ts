// Rooms and who is in them: listing and browsing, creating groups, channels and direct
// conversations, asking to join a channel, and the admin's work of adding, removing, promoting,
// renaming and deleting.
import type { Command } from 'commander';
import { isClientError } from '../index';
import { describeTimer } from '../membership-words';
import { describeRoom, print } from './output';
import { clientRunner, resolveRoom } from './session';

export function registerRoomCommands(program: Command): void {
  const withClient = clientRunner(program);

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

  program
    .command('ban <room> <username>')
    .description('remove someone and keep them out of a group or channel (admins)')
    .action((room: string, username: string) =>
      withClient(async (client) => {
        const roomId = await resolveRoom(client, room);
        await client.banMember(roomId, (await client.lookUp(username)).userId);
        print(`${username} is banned.`);
      }),
    );

  program.command('unban <room> <username>').action((room: string, username: string) =>
    withClient(async (client) => {
      const roomId = await resolveRoom(client, room);
      await client.unbanMember(roomId, (await client.lookUp(username)).userId);
      print(`${username} may come back.`);
    }),
  );

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
    .command('timer <room> <duration>')
    .description(
      'make messages disappear after a time: off, or a number with s, m, h, d or w (5m, 1h, 1w); ' +
        'admins of groups and channels, either party of a direct conversation',
    )
    .action((room: string, duration: string) =>
      withClient(async (client) => {
        const seconds = parseDuration(duration);
        if (seconds === undefined) {
          throw new Error(`"${duration}" is not a duration: say off, or e.g. 5m, 1h, 1d, 1w`);
        }
        const view = await client.setMessageTimer(await resolveRoom(client, room), seconds);
        print(
          view.messageTimer === 0
            ? 'Messages no longer disappear.'
            : `Messages now disappear after ${describeTimer(view.messageTimer)}.`,
        );
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
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

/** "off" as 0, "90s", "5m", "1h", "1d", "1w" in seconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  if (text === 'off' || text === '0') return 0;
  const match = /^(\d{1,6})([smhdw])$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}
