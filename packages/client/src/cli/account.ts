// The account on this machine: making one, logging in where the keys already are, restoring them
// from the backup elsewhere, and logging out. Passwords and passphrases never come as arguments
// (they would show in the shell history and the process list): see `secret`.
import type { Command } from 'commander';
import { print } from './output';
import { clientRunner, secret } from './session';

export function registerAccountCommands(program: Command): void {
  const withClient = clientRunner(program);

  program
    .command('signup <username>')
    .description(
      'create an account; keys are made on this machine and backed up under a passphrase',
    )
    .option('--no-backup', 'no key backup (a bot whose keys live only here)')
    .option('--email <address>', 'an address for password reset; a verification link is mailed')
    .action((username: string, options: { backup: boolean; email?: string }) =>
      withClient(async (client) => {
        const password = await secret('PARLEY_PASSWORD', 'Password: ');
        const passphrase = options.backup
          ? await secret('PARLEY_PASSPHRASE', 'Backup passphrase (not the password): ')
          : undefined;
        const me = await client.signUp({ username, password, passphrase, email: options.email });
        print(`Signed up as ${me.username} (${me.userId}). Fingerprint ${me.fingerprint}`);
        if (options.email !== undefined) print(`Sent a verification link to ${options.email}.`);
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
}
