// The server's REST routes as typed calls. Every route the client uses is one entry of ROUTES,
// with its method, its path and the @parley/wire schema its answer must match (checked by
// boundary.ts before any field is read); no other module writes a path. Underneath: JSON in and
// out, `{ error: { code, message } }` turned into a ClientError with the server's code, a timeout
// on every request, and one refresh of the access token when it has expired.
import { fromBase64Url } from '@parley/crypto';
import {
  AccountRules,
  AppendChainResponse,
  AttachmentLimits,
  AttachmentUploaded,
  AuthResponse,
  BackupResponse,
  ChainPage,
  ChannelPage,
  HistoryPage,
  IceServersResponse,
  isErrorCode,
  JoinRequestItem,
  JoinRequestList,
  BanList,
  BlockList,
  ContactList,
  EmailStatus,
  PrivacySettings,
  ForgotPasswordAccepted,
  PasswordChanged,
  PendingJoinList,
  Me,
  PostKeysResponse,
  PublicProfile,
  ReceiptList,
  Room,
  RoomKeyList,
  RoomList,
  SearchPeopleResponse,
  SessionList,
  UserKeys,
  type CreateRoomRequest,
  type PostReceiptsRequest,
  type PublishKeysRequest,
  type ResetIdentityRequest,
  type UpdateProfileRequest,
  type UpdateRoomRequest,
} from '@parley/wire';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { answerCheck, type AnswerCheck, type ProtocolViolation } from './boundary';
import { ClientError } from './errors';
import type { Clock, Logger, Transport } from './options';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** How the API gets and renews the session's tokens (the client keeps them in the key store). */
export interface TokenSource {
  current(): Tokens | undefined;
  /** Exchanges the refresh token (single-flight); rejects when the session is over. */
  refresh(): Promise<Tokens>;
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  body?: unknown;
  /** Raw bytes to send instead of a JSON body (avatars, encrypted attachments). */
  bytes?: { data: Uint8Array; contentType: string };
  query?: Query;
}

/** A route: `:name` segments of `path` are filled in order; `answer` is null for raw bytes. */
export interface Route<S extends TSchema | null = TSchema | null> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** Sends the access token (and on TOKEN_EXPIRED refreshes once and retries). */
  auth: boolean;
  answer: S;
  check: AnswerCheck | undefined;
}

function route<S extends TSchema | null>(
  method: Route['method'],
  path: string,
  answer: S,
  auth = true,
): Route<S> {
  const check = answer === null ? undefined : answerCheck(`${method} ${path}`, answer);
  return { method, path, auth, answer, check };
}

const Empty = Type.Union([Type.Undefined(), Type.Null(), Type.Object({})]);
const Ignored = Type.Unknown();
const SessionsEnded = Type.Object({ sessionsEnded: Type.Integer({ minimum: 0 }) });

/** Every route the client calls and the answer it expects (a success status); mirrors server/src. */
export const ROUTES = {
  register: route('POST', '/api/auth/register', AuthResponse, false),
  logIn: route('POST', '/api/auth/login', AuthResponse, false),
  refresh: route('POST', '/api/auth/refresh', AuthResponse, false),
  logOut: route('POST', '/api/auth/logout', Empty, false),
  logOutAll: route('POST', '/api/auth/logout-all', SessionsEnded),
  accountRules: route('GET', '/api/auth/rules', AccountRules, false),
  emailStatus: route('GET', '/api/me/email', EmailStatus),
  setEmail: route('PUT', '/api/me/email', EmailStatus),
  resendVerification: route('POST', '/api/me/email/verification', Empty),
  verifyEmail: route('POST', '/api/auth/verify-email', EmailStatus, false),
  forgotPassword: route('POST', '/api/auth/forgot-password', ForgotPasswordAccepted, false),
  resetPassword: route('POST', '/api/auth/reset-password', Empty, false),
  changePassword: route('POST', '/api/me/password', PasswordChanged),
  sessions: route('GET', '/api/me/sessions', SessionList),
  revokeSession: route('DELETE', '/api/me/sessions/:id', Empty),
  me: route('GET', '/api/me', Me),
  updateProfile: route('PATCH', '/api/me/profile', Me),
  setAvatar: route('PUT', '/api/me/avatar', Ignored),
  removeAvatar: route('DELETE', '/api/me/avatar', Ignored),
  publishKeys: route('PUT', '/api/me/keys', Ignored),
  storeBackup: route('PUT', '/api/me/backup', Ignored),
  fetchBackup: route('GET', '/api/me/backup', BackupResponse),
  resetIdentity: route('POST', '/api/me/identity/reset', UserKeys),
  searchPeople: route('GET', '/api/users', SearchPeopleResponse),
  profile: route('GET', '/api/users/by-id/:id', PublicProfile),
  avatar: route('GET', '/api/users/by-id/:id/avatar', null, false),
  keysById: route('GET', '/api/users/by-id/:id/keys', UserKeys),
  keysByName: route('GET', '/api/users/:username/keys', UserKeys),
  rooms: route('GET', '/api/rooms', RoomList),
  createRoom: route('POST', '/api/rooms', Room),
  room: route('GET', '/api/rooms/:id', Room),
  updateRoom: route('PATCH', '/api/rooms/:id', Room),
  deleteRoom: route('DELETE', '/api/rooms/:id', Empty),
  ban: route('POST', '/api/rooms/:id/bans', Empty),
  unban: route('DELETE', '/api/rooms/:id/bans/:userId', Empty),
  bans: route('GET', '/api/rooms/:id/bans', BanList),
  channels: route('GET', '/api/channels', ChannelPage),
  chain: route('GET', '/api/rooms/:id/chain', ChainPage),
  appendChain: route('POST', '/api/rooms/:id/chain', AppendChainResponse),
  requestJoin: route('POST', '/api/rooms/:id/join-requests', JoinRequestItem),
  joinRequests: route('GET', '/api/rooms/:id/join-requests', JoinRequestList),
  cancelJoin: route('DELETE', '/api/rooms/:id/join-requests', Empty),
  myJoinRequests: route('GET', '/api/join-requests', PendingJoinList),
  sealKeys: route('POST', '/api/rooms/:id/keys', PostKeysResponse),
  keys: route('GET', '/api/rooms/:id/keys', RoomKeyList),
  messages: route('GET', '/api/rooms/:id/messages', HistoryPage),
  markReceipts: route('POST', '/api/rooms/:id/receipts', Empty),
  receipts: route('GET', '/api/rooms/:id/receipts', ReceiptList),
  upload: route('POST', '/api/rooms/:id/attachments', AttachmentUploaded),
  attachmentLimits: route('GET', '/api/attachments/limits', AttachmentLimits),
  attachment: route('GET', '/api/attachments/:blobId', null),
  iceServers: route('GET', '/api/calls/ice-servers', IceServersResponse),
  contacts: route('GET', '/api/contacts', ContactList),
  requestContact: route('POST', '/api/contacts/requests', ContactList),
  acceptContact: route('POST', '/api/contacts/requests/:id/accept', ContactList),
  declineContact: route('POST', '/api/contacts/requests/:id/decline', ContactList),
  cancelContactRequest: route('DELETE', '/api/contacts/requests/:id', ContactList),
  removeContact: route('DELETE', '/api/contacts/:userId', ContactList),
  blocks: route('GET', '/api/blocks', BlockList),
  block: route('POST', '/api/blocks/:userId', BlockList),
  unblock: route('DELETE', '/api/blocks/:userId', BlockList),
  privacy: route('GET', '/api/me/privacy', PrivacySettings),
  setPrivacy: route('PUT', '/api/me/privacy', PrivacySettings),
} as const;

interface Credentials {
  username: string;
  password: string;
  email?: string;
}

export class ServerApi {
  constructor(
    private readonly transport: Transport,
    private readonly tokens: TokenSource,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    /** Told of every answer that fails its schema (the request then fails with BAD_RESPONSE). */
    private readonly onViolation: (violation: ProtocolViolation) => void = () => {},
    /** The name of this device in the account's session list (ClientOptions.deviceName). */
    private readonly deviceName?: string,
  ) {}

  get baseUrl(): string {
    return this.transport.baseUrl.replace(/\/+$/, '');
  }

  /** The WebSocket endpoint: the base URL with ws(s) for http(s), at /ws. */
  get socketUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/ws`;
  }

  // ----- account and session -----

  register = (credentials: Credentials) =>
    this.json(ROUTES.register, [], { body: { ...credentials, ...this.device() } });
  logIn = (credentials: Credentials) =>
    this.json(ROUTES.logIn, [], { body: { ...credentials, ...this.device() } });
  refresh = (refreshToken: string) =>
    this.json(ROUTES.refresh, [], { body: { refreshToken, ...this.device() } });
  logOut = (refreshToken: string) => this.json(ROUTES.logOut, [], { body: { refreshToken } });
  logOutAll = () => this.json(ROUTES.logOutAll, []);
  accountRules = () => this.json(ROUTES.accountRules, []);
  publishKeys = (keys: PublishKeysRequest) => this.json(ROUTES.publishKeys, [], { body: keys });
  storeBackup = (blob: string) => this.json(ROUTES.storeBackup, [], { body: { blob } });
  fetchBackup = () => this.json(ROUTES.fetchBackup, []);
  resetIdentity = (request: ResetIdentityRequest) =>
    this.json(ROUTES.resetIdentity, [], { body: request });

  // ----- email and password -----

  emailStatus = () => this.json(ROUTES.emailStatus, []);
  setEmail = (email: string, password: string) =>
    this.json(ROUTES.setEmail, [], { body: { email, password } });
  resendVerification = () => this.json(ROUTES.resendVerification, []);
  verifyEmail = (token: string) => this.json(ROUTES.verifyEmail, [], { body: { token } });
  forgotPassword = (login: string) => this.json(ROUTES.forgotPassword, [], { body: { login } });
  resetPassword = (token: string, password: string) =>
    this.json(ROUTES.resetPassword, [], { body: { token, password } });
  changePassword = (currentPassword: string, newPassword: string) =>
    this.json(ROUTES.changePassword, [], { body: { currentPassword, newPassword } });

  // ----- signed-in sessions -----

  sessions = () => this.json(ROUTES.sessions, []);
  revokeSession = (sessionId: string) => this.json(ROUTES.revokeSession, [sessionId]);

  // ----- profiles and directory -----

  me = () => this.json(ROUTES.me, []);
  updateProfile = (changes: UpdateProfileRequest) =>
    this.json(ROUTES.updateProfile, [], { body: changes });
  setAvatar = (data: Uint8Array, contentType: string) =>
    this.json(ROUTES.setAvatar, [], { bytes: { data, contentType } });
  removeAvatar = () => this.json(ROUTES.removeAvatar, []);
  avatar = (userId: string) => this.bytes(ROUTES.avatar, [userId]);
  /** Where a person's avatar is: an address an `<img>` can load without a session. */
  avatarUrl = (userId: string) => this.baseUrl + fill(ROUTES.avatar.path, [userId]);
  profile = (userId: string) => this.json(ROUTES.profile, [userId]);
  searchPeople = (prefix: string) => this.json(ROUTES.searchPeople, [], { query: { q: prefix } });
  keysById = (userId: string) => this.json(ROUTES.keysById, [userId]);
  keysByName = (username: string) => this.json(ROUTES.keysByName, [username]);

  // ----- rooms, chains and keys -----

  rooms = () => this.json(ROUTES.rooms, []);
  createRoom = (room: CreateRoomRequest) => this.json(ROUTES.createRoom, [], { body: room });
  room = (roomId: string) => this.json(ROUTES.room, [roomId]);
  updateRoom = (roomId: string, details: UpdateRoomRequest) =>
    this.json(ROUTES.updateRoom, [roomId], { body: details });
  deleteRoom = (roomId: string) => this.json(ROUTES.deleteRoom, [roomId]);
  ban = (roomId: string, userId: string) => this.json(ROUTES.ban, [roomId], { body: { userId } });
  unban = (roomId: string, userId: string) => this.json(ROUTES.unban, [roomId, userId]);
  bans = (roomId: string) => this.json(ROUTES.bans, [roomId]);
  channels = (query: Query) => this.json(ROUTES.channels, [], { query });
  chain = (roomId: string, after: number | undefined) =>
    this.json(ROUTES.chain, [roomId], { query: { after } });
  appendChain = (roomId: string, entry: string) =>
    this.json(ROUTES.appendChain, [roomId], { body: { entry } });
  requestJoin = (roomId: string) => this.json(ROUTES.requestJoin, [roomId], { body: {} });
  joinRequests = (roomId: string) => this.json(ROUTES.joinRequests, [roomId]);
  cancelJoin = (roomId: string) => this.json(ROUTES.cancelJoin, [roomId]);
  myJoinRequests = () => this.json(ROUTES.myJoinRequests, []);
  sealKeys = (roomId: string, envelopes: string[]) =>
    this.json(ROUTES.sealKeys, [roomId], { body: { envelopes } });
  keys = (roomId: string) => this.json(ROUTES.keys, [roomId]);

  // ----- messages, receipts, attachments -----

  messages = (roomId: string, query: { after?: number; before?: number; limit: number }) =>
    this.json(ROUTES.messages, [roomId], { query });
  markReceipts = (roomId: string, markers: PostReceiptsRequest) =>
    this.json(ROUTES.markReceipts, [roomId], { body: markers });
  receipts = (roomId: string) => this.json(ROUTES.receipts, [roomId]);
  upload = (roomId: string, blob: Uint8Array) =>
    this.json(ROUTES.upload, [roomId], {
      bytes: { data: blob, contentType: 'application/octet-stream' },
    });
  attachmentLimits = () => this.json(ROUTES.attachmentLimits, []);
  iceServers = () => this.json(ROUTES.iceServers, []);
  attachment = (blobId: string) => this.bytes(ROUTES.attachment, [blobId]);

  // ----- contacts, blocks, privacy -----

  contacts = () => this.json(ROUTES.contacts, []);
  requestContact = (userId: string) => this.json(ROUTES.requestContact, [], { body: { userId } });
  acceptContact = (requestId: string) => this.json(ROUTES.acceptContact, [requestId]);
  declineContact = (requestId: string) => this.json(ROUTES.declineContact, [requestId]);
  cancelContactRequest = (requestId: string) => this.json(ROUTES.cancelContactRequest, [requestId]);
  removeContact = (userId: string) => this.json(ROUTES.removeContact, [userId]);
  blocks = () => this.json(ROUTES.blocks, []);
  block = (userId: string) => this.json(ROUTES.block, [userId]);
  unblock = (userId: string) => this.json(ROUTES.unblock, [userId]);
  privacy = () => this.json(ROUTES.privacy, []);
  setPrivacy = (directFrom: 'everyone' | 'contacts') =>
    this.json(ROUTES.setPrivacy, [], { body: { directFrom } });

  // ----- underneath -----

  /** The device name for register, log in and refresh; without one the server reads the UA. */
  private device(): { deviceName?: string } {
    return this.deviceName === undefined ? {} : { deviceName: this.deviceName };
  }

  /** A JSON answer, checked against the route's schema. */
  private json<S extends TSchema>(
    route: Route<S>,
    params: string[],
    options: RequestOptions = {},
  ): Promise<Static<S>> {
    return this.withRefresh(route, () => this.once(route, params, options, 'json')) as Promise<
      Static<S>
    >;
  }

  /** An answer of raw bytes (an avatar, an attachment). */
  private bytes(
    route: Route<null>,
    params: string[],
  ): Promise<{ data: Uint8Array; contentType: string }> {
    return this.withRefresh(route, () => this.once(route, params, {}, 'bytes')) as Promise<{
      data: Uint8Array;
      contentType: string;
    }>;
  }

  private async withRefresh<T>(route: Route, attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      if (!route.auth || !(error instanceof ClientError) || error.code !== 'TOKEN_EXPIRED')
        throw error;
      await this.tokens.refresh();
      return attempt();
    }
  }

  private async once(
    route: Route,
    params: string[],
    options: RequestOptions,
    answer: 'json' | 'bytes',
  ): Promise<unknown> {
    const { method, auth } = route;
    const operation = `${method} ${route.path}`;
    const headers: Record<string, string> = {
      accept: answer === 'json' ? 'application/json' : '*/*',
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.bytes !== undefined) headers['content-type'] = options.bytes.contentType;
    if (auth) {
      const tokens = this.tokens.current();
      if (tokens === undefined) {
        throw new ClientError('NOT_SIGNED_IN', operation, 'no session on this device; log in');
      }
      headers.authorization = `Bearer ${tokens.accessToken}`;
    }
    const url = new URL(`${this.baseUrl}${fill(route.path, params)}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const abort = new AbortController();
    const timer = this.clock.setTimeout(() => abort.abort(), this.timeoutMs);
    let response: Response;
    let raw: Uint8Array;
    try {
      response = await this.transport.fetch(url.toString(), {
        method,
        headers,
        body:
          options.bytes !== undefined
            ? (options.bytes.data as Uint8Array<ArrayBuffer>)
            : options.body === undefined
              ? undefined
              : JSON.stringify(options.body),
        signal: abort.signal,
      });
      raw = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if (abort.signal.aborted) {
        throw new ClientError('TIMEOUT', operation, `no answer in ${this.timeoutMs} ms`);
      }
      throw new ClientError('NETWORK_ERROR', operation, 'the server cannot be reached', {
        cause: error,
      });
    } finally {
      this.clock.clearTimeout(timer);
    }
    if (response.ok && answer === 'bytes') {
      return { data: raw, contentType: response.headers.get('content-type') ?? '' };
    }
    const json = parseJson(new TextDecoder().decode(raw));
    if (!response.ok) {
      const answer = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = isErrorCode(answer?.code) ? answer.code : 'BAD_RESPONSE';
      const message = typeof answer?.message === 'string' ? answer.message : response.statusText;
      this.logger.debug('request failed', { operation, status: response.status, code });
      throw new ClientError(code, operation, message, { status: response.status });
    }
    const violation = route.check?.(json);
    if (violation !== undefined) {
      this.onViolation(violation);
      throw new ClientError(
        'BAD_RESPONSE',
        operation,
        `the answer does not match its schema at ${violation.path || '/'}: ${violation.message}`,
        { status: response.status },
      );
    }
    return json;
  }
}

/** The route's path with its `:name` segments replaced, in order, by `params` (URL-encoded). */
function fill(path: string, params: string[]): string {
  let index = 0;
  return path.replace(/:[A-Za-z]+/g, () => encodeURIComponent(params[index++] ?? ''));
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `exp` claim of a JWT in milliseconds (read, not verified: only to refresh in time). */
export function tokenExpiry(accessToken: string): number | undefined {
  const payload = accessToken.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(payload))) as {
      exp?: unknown;
    };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
