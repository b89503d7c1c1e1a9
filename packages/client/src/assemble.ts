// Builds a client's modules around one shared context and wires them to one another and to the
// connection, from the options a caller passes in (transport, key store, clock, logger, tuning).
// Kept apart from the Client facade so the facade only delegates, and so tests can reach each
// module of a real, fully wired client.
import { deriveBackupKey, ready } from '@parley/crypto';
import { Account } from './account';
import { ServerApi } from './api';
import { Attachments } from './attachments';
import { Backup } from './backup';
import type { ProtocolViolation } from './boundary';
import { Calls } from './calls';
import { RoomChains } from './chain';
import { Connection } from './connection';
import { Contacts } from './contacts';
import { ClientContext } from './context';
import { Delivery } from './delivery';
import { AccountEmail } from './email';
import { checkDeviceName, SignedInSessions } from './sessions';
import { FrameDispatch } from './dispatch';
import { ClientEventEmitter } from './events';
import { Membership } from './membership';
import { Messages } from './messages';
import {
  DEFAULT_TUNING,
  resolveTransport,
  silentLogger,
  systemClock,
  type ClientOptions,
} from './options';
import { Outbox } from './outbox';
import { People } from './people';
import { Receipts } from './receipts';
import { RoomKeys } from './room-keys';
import { Session } from './session';
import { MessageSearch } from './search/search';
import { RoomSync } from './sync';
import { TrustStore } from './trust';

export interface ClientParts {
  ctx: ClientContext;
  session: Session;
  connection: Connection;
  account: Account;
  email: AccountEmail;
  contacts: Contacts;
  sessions: SignedInSessions;
  attachments: Attachments;
  receipts: Receipts;
  chains: RoomChains;
  keys: RoomKeys;
  membership: Membership;
  messages: Messages;
  delivery: Delivery;
  sync: RoomSync;
  dispatch: FrameDispatch;
  search: MessageSearch;
  calls: Calls;
  /** How many frames and answers failed their schema and were dropped. */
  protocolErrors(): number;
}

/** Every module of a client, wired, with what the key store holds loaded. */
export async function assemble(options: ClientOptions): Promise<ClientParts> {
  await ready();
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const tuning = { ...DEFAULT_TUNING, ...options.tuning };
  const store = options.keyStore;
  const trust = await TrustStore.load(store, () => clock.now());
  const outbox = await Outbox.load(store, {
    firstRetryMs: tuning.ackTimeoutMs,
    maxRetryMs: tuning.maxRetryMs,
  });
  const transport = resolveTransport(options);
  const events = new ClientEventEmitter(logger);
  let protocolErrors = 0;
  const onProtocolError = (violation: ProtocolViolation) => {
    protocolErrors += 1;
    events.emit('protocol-error', violation);
  };

  const session: Session = new Session(store, clock, tuning, (): ServerApi => api);
  const api = new ServerApi(
    transport,
    session,
    clock,
    logger,
    tuning.requestTimeoutMs,
    onProtocolError,
    checkDeviceName(options.deviceName),
  );
  const people: People = new People({
    api,
    trust,
    events,
    logger,
    me: (): { userId: string; identityKey: Uint8Array } | undefined =>
      ctx.secrets && {
        userId: ctx.secrets.record.userId,
        identityKey: ctx.secrets.identity.publicKey,
      },
    verifiedChanged: () =>
      ctx.secrets === undefined ? Promise.resolve() : backup.reseal(ctx.secrets.record),
  });
  const send = (frame: Record<string, unknown>) => connection.send(frame);
  const ctx: ClientContext = new ClientContext({
    store,
    api,
    events,
    trust,
    people,
    clock,
    logger,
    tuning,
    send,
  });

  const backup = new Backup({
    api,
    trust,
    leftBehind: () => [...ctx.leftBehind],
    store,
    deriveBackupKey:
      options.deriveBackupKey ??
      ((passphrase, salt, params) => Promise.resolve(deriveBackupKey(passphrase, salt, params))),
  });
  const receipts = new Receipts({ api, send, rooms: ctx.rooms, myId: () => ctx.myId, logger });
  const delivery = new Delivery(ctx, outbox, {
    get isReady() {
      return connection.isReady;
    },
    send,
  });
  // Keys, chains and messages need one another: the keys reach the other two through hooks.
  const keys: RoomKeys = new RoomKeys(ctx, {
    syncChain: (room) => chains.sync(room),
    releaseHeld: (room) => messages.releaseHeld(room),
  });
  const chains = new RoomChains(ctx, keys);
  const messages = new Messages(ctx, chains, keys, delivery, receipts);
  const membership: Membership = new Membership(ctx, chains, keys, {
    syncRooms: () => sync.syncRooms(),
  });
  const sync = new RoomSync(ctx, chains, keys, membership, messages, delivery);
  const account = new Account(ctx, session, backup, {
    disconnect: () => connection.stop(),
    syncRooms: () => sync.syncRooms(),
  });
  const contacts = new Contacts({ api, trust, people, events, logger });
  const dispatch = new FrameDispatch(ctx, {
    contacts,
    chains,
    keys,
    membership,
    messages,
    delivery,
    receipts,
    sync,
  });
  const connection: Connection = new Connection(
    api.socketUrl,
    transport.WebSocket,
    {
      onReady: () => dispatch.onReady(),
      onFrame: (frame) => dispatch.onFrame(frame),
      onProtocolError,
      onState: (state, attempt) => events.emit('connection', { state, attempt }),
      accessToken: () => session.freshAccessToken(),
      onAuthRejected: async () => {
        await session.refresh();
      },
      onSessionEnded: (reason) => {
        // Signed out by the server: the saved tokens are dead; the keys stay for the next log-in.
        void session
          .clear()
          .catch(ctx.report('signed-out'))
          .then(() => events.emit('signed-out', { reason }));
      },
    },
    clock,
    logger,
    tuning,
  );

  // Listens from the start, so nothing read below or later escapes the index.
  const search = new MessageSearch(ctx, tuning.searchSaveDelayMs);
  const calls = new Calls({
    send: (roomId, payload) => messages.send(roomId, payload),
    events,
    clock,
    logger,
    directPeer: (roomId) => {
      const room = ctx.rooms.get(roomId);
      return room !== undefined && ctx.isMine(room) ? room.peerOf(ctx.myId) : undefined;
    },
    ringTimeoutMs: tuning.ringTimeoutMs,
  });

  await account.load();
  await chains.load();
  return {
    ctx,
    session,
    connection,
    account,
    email: new AccountEmail(api),
    contacts,
    sessions: new SignedInSessions(api, { endedHere: () => account.logOut() }),
    attachments: new Attachments(api),
    receipts,
    chains,
    keys,
    membership,
    messages,
    delivery,
    sync,
    dispatch,
    search,
    calls,
    protocolErrors: () => protocolErrors,
  };
}
