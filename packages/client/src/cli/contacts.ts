// Contacts and blocks: `parley contacts` lists contacts (with whether their keys are verified on
// this machine) and the requests both ways; `parley contacts add|accept|decline|cancel|remove`,
// `parley block|unblock` and `parley privacy direct everyone|contacts` change them. People are
// named by username.
import type { Command } from 'commander';
import type { Client, ContactListing, ContactsView, DirectFrom } from '../index';
import { print, printable } from './output';
import { clientRunner } from './session';

export function registerContactCommands(program: Command): void {
  const withClient = clientRunner(program);

  const contacts = program.command('contacts').description('your contacts and contact requests');

  contacts
    .command('list', { isDefault: true })
    .description('contacts, whether their keys are verified here, and requests both ways')
    .action(() => withClient(async (client) => printContacts(await client.contactList())));

  contacts
    .command('add <username>')
    .description('ask someone to be a contact (their keys are pinned on this machine)')
    .action((username: string) =>
      withClient(async (client) => {
        const view = await client.requestContact(username);
        const name = printable(username);
        print(
          view.contacts.some((c) => c.username === username)
            ? `${name} asked you too: you are contacts now.`
            : `Asked ${name} to be a contact.`,
        );
      }),
    );

  const answer = (
    verb: string,
    describe: string,
    act: (client: Client, userId: string) => Promise<ContactsView>,
    done: (name: string) => string,
  ) =>
    contacts
      .command(`${verb} <username>`)
      .description(describe)
      .action((username: string) =>
        withClient(async (client) => {
          await act(client, await userIdOf(client, username));
          print(done(printable(username)));
        }),
      );

  answer(
    'accept',
    'accept a contact request',
    (c, id) => c.acceptContact(id),
    (n) => `${n} is a contact now.`,
  );
  answer(
    'decline',
    'decline a contact request',
    (c, id) => c.declineContact(id),
    (n) => `Declined ${n}'s request.`,
  );
  answer(
    'cancel',
    'withdraw your contact request',
    (c, id) => c.cancelContactRequest(id),
    (n) => `Withdrew your request to ${n}.`,
  );
  answer(
    'remove',
    'stop being contacts',
    (c, id) => c.removeContact(id),
    (n) => `${n} is no longer a contact.`,
  );

  program
    .command('block <username>')
    .description('block someone: no contact, direct messages, presence or typing with them')
    .action((username: string) =>
      withClient(async (client) => {
        await client.block(await userIdOf(client, username));
        print(`Blocked ${printable(username)}.`);
      }),
    );

  program
    .command('unblock <username>')
    .description('undo a block')
    .action((username: string) =>
      withClient(async (client) => {
        await client.unblock(await userIdOf(client, username));
        print(`Unblocked ${printable(username)}.`);
      }),
    );

  program
    .command('blocked')
    .description('the people you blocked')
    .action(() =>
      withClient(async (client) => {
        for (const user of await client.blockedUsers()) print(printable(user.username));
      }),
    );

  program
    .command('privacy')
    .description('who may open a direct conversation with you')
    .command('direct [who]')
    .description('`everyone` or `contacts`; without it, the current setting')
    .action((who: string | undefined) =>
      withClient(async (client) => {
        if (who !== undefined && who !== 'everyone' && who !== 'contacts') {
          throw new Error('say `everyone` or `contacts`');
        }
        const now =
          who === undefined
            ? await client.directPrivacy()
            : await client.setDirectPrivacy(who as DirectFrom);
        print(
          now === 'everyone'
            ? 'Anyone may open a direct conversation with you.'
            : 'Only your contacts may open a direct conversation with you.',
        );
      }),
    );
}

function printContacts(view: ContactsView): void {
  for (const contact of view.contacts)
    print(`${printable(contact.username)}  ${keyState(contact)}`);
  for (const request of view.incoming) {
    print(`${printable(request.username)}  asks to be a contact (parley contacts accept)`);
  }
  for (const request of view.outgoing) print(`${printable(request.username)}  asked by you`);
  if (view.contacts.length + view.incoming.length + view.outgoing.length === 0) {
    print('No contacts yet: `parley contacts add <username>`.');
  }
}

function keyState(contact: ContactListing): string {
  if (contact.keyChanged) return 'keys changed: compare safety numbers again';
  if (contact.verified) return 'verified';
  return contact.pinned ? 'not verified' : 'keys not seen on this machine';
}

/** A user id by username: from the contact list or block list when there, else the directory. */
async function userIdOf(client: Client, username: string): Promise<string> {
  const view = await client.contactList();
  const listed = [
    ...view.contacts,
    ...view.incoming,
    ...view.outgoing,
    ...(await client.blockedUsers()),
  ];
  const found = listed.find((item) => item.username === username);
  if (found !== undefined) return found.userId;
  return (await client.lookUp(username)).userId;
}
