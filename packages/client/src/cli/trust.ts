// Trust in contacts' keys: the safety number two people compare out of band, and accepting a
// contact's new keys once they have been checked. Until then a changed key is only warned about.
import type { Command } from 'commander';
import { print } from './output';
import { clientRunner } from './session';

export function registerTrustCommands(program: Command): void {
  const withClient = clientRunner(program);

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
}
