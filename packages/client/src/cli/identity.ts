// `parley identity reset`: a new identity for someone who lost every device and the backup
// passphrase. It cannot be undone and it warns every contact, so it asks for an explicit
// confirmation (typed, or --yes for scripts) besides the password and a new passphrase.
import type { Command } from 'commander';
import { print, status } from './output';
import { clientRunner, secret } from './session';

const WARNING = [
  'A new identity replaces your keys for good:',
  '- every contact is warned that your keys changed, and your safety numbers change;',
  '- the rooms you were in stay unreadable to you: their keys were sealed to the old keys;',
  '- only do this if you lost every device and your backup passphrase.',
].join('\n');

export function registerIdentityCommands(program: Command): void {
  const withClient = clientRunner(program);

  const identity = program.command('identity').description('this account’s identity keys');

  identity
    .command('reset <username>')
    .description('start a new identity (lost every device and the backup passphrase)')
    .option('--yes', 'confirm without the typed confirmation (scripts)')
    .action((username: string, options: { yes?: boolean }) =>
      withClient(async (client) => {
        if (client.me !== undefined) {
          throw new Error(
            'this machine holds the keys: keep them, and set a new backup passphrase instead',
          );
        }
        status(WARNING);
        if (options.yes !== true) {
          const typed = await secret('PARLEY_CONFIRM', 'Type "new identity" to confirm: ');
          if (typed.trim().toLowerCase() !== 'new identity') throw new Error('not confirmed');
        }
        const password = await secret('PARLEY_PASSWORD', 'Password: ');
        if (!client.isLoggedIn) await client.logIn({ username, password });
        const passphrase = await secret(
          'PARLEY_PASSPHRASE',
          'New backup passphrase (not the password): ',
        );
        const me = await client.resetIdentity({ password, passphrase });
        print(`New identity for ${me.username}. Fingerprint ${me.fingerprint}`);
        status('Your contacts will see that your keys changed; compare safety numbers again.');
      }),
    );
}
