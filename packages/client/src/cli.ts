#!/usr/bin/env tsx
// `parley`: the command-line client on @parley/client, for people, bots and scripts.
// Keys live in $PARLEY_HOME/keys.json (default ~/.parley), readable only by their owner.
// Secrets come from a hidden prompt, or from PARLEY_PASSWORD / PARLEY_PASSPHRASE for scripts.
// The commands themselves are in cli/, one module per domain.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerAccountCommands } from './cli/account';
import { registerCallCommands } from './cli/calls';
import { registerContactCommands } from './cli/contacts';
import { registerEmailCommands } from './cli/email';
import { registerIdentityCommands } from './cli/identity';
import { registerMessageCommands } from './cli/messages';
import { registerRoomCommands } from './cli/rooms';
import { registerSessionCommands } from './cli/sessions';
import { registerTrustCommands } from './cli/trust';

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

registerAccountCommands(program);
registerEmailCommands(program);
registerRoomCommands(program);
registerMessageCommands(program);
registerTrustCommands(program);
registerCallCommands(program);
registerContactCommands(program);
registerSessionCommands(program);
registerIdentityCommands(program);

await program.parseAsync();
