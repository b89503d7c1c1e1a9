// `parley sessions`: the account's signed-in sessions (device name, last seen, this device
// marked) and `parley sessions revoke <id>` to sign one of them out at once.
import type { Command } from 'commander';
import { print, printable } from './output';
import { clientRunner } from './session';

export function registerSessionCommands(program: Command): void {
  const withClient = clientRunner(program);

  const sessions = program.command('sessions').description('the devices signed in to this account');

  sessions
    .command('list', { isDefault: true })
    .description('each session: id, device, when it was last seen; * marks this device')
    .action(() =>
      withClient(async (client) => {
        for (const session of await client.listSessions()) {
          const seen = session.lastSeenAt.slice(0, 16).replace('T', ' ');
          const mark = session.current ? '  (this device)' : '';
          print(`${session.id}  ${printable(session.deviceName)}  last seen ${seen} UTC${mark}`);
        }
      }),
    );

  sessions
    .command('revoke <id>')
    .description('sign that session out at once (its device must log in again)')
    .action((id: string) =>
      withClient(async (client) => {
        const own = (await client.listSessions()).find((session) => session.current)?.id;
        await client.revokeSession(id);
        print(id === own ? 'Signed out this device.' : `Signed out session ${id}.`);
      }),
    );
}
