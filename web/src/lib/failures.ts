// Plain-language words for every failure the client can report, so the UI never shows a bare code.
import type { VerificationFailureCode } from '@parley/client';

/** What the user is told when a check on something the server delivered fails. */
export const VERIFICATION_FAILURE_TEXT: Record<VerificationFailureCode, string> = {
  INVALID_ARGUMENT: 'Parley was handed something it cannot use. Reload the page and try again.',
  NOT_READY: 'The encryption library had not finished loading. Reload the page.',
  IDENTITY_MALFORMED: 'A contact’s published keys are damaged, so they cannot be trusted.',
  SAFETY_NUMBER_MISMATCH:
    'The scanned code does not match. You may not be talking to who you think: compare in person again.',
  IDENTITY_BAD_SIGNATURE:
    'A contact’s encryption key is not signed by their identity key. It was ignored.',
  ENVELOPE_MALFORMED: 'A room key that arrived is damaged and was ignored.',
  ENVELOPE_WRONG_ROOM: 'The server delivered a key meant for another room. It was ignored.',
  ENVELOPE_WRONG_EPOCH:
    'The server delivered a key for the wrong period of this room. It was ignored.',
  ENVELOPE_WRONG_RECIPIENT: 'The server delivered a key meant for someone else. It was ignored.',
  ENVELOPE_BAD_SIGNATURE:
    'A room key is not signed by the member it claims to come from. It was ignored.',
  ENVELOPE_UNAUTHORISED_DISTRIBUTOR:
    'A room key came from someone who was not allowed to hand it out. It was ignored.',
  ENVELOPE_DECRYPT_FAILED: 'A room key sent to you could not be opened with your keys.',
  CHAIN_MALFORMED: 'This room’s member list is damaged. Parley keeps the last version it checked.',
  CHAIN_UNKNOWN_ENTRY_TYPE: 'This room’s member list holds a change Parley does not understand.',
  CHAIN_FORK:
    'The server showed this room’s member list in two different versions. Someone may be tampering with it.',
  CHAIN_BROKEN_LINK: 'This room’s member list has a missing or altered step.',
  CHAIN_BAD_GENESIS: 'This room’s first entry is not valid, so its member list cannot be trusted.',
  CHAIN_UNKNOWN_ACTOR: 'A change to this room was made by someone whose keys are unknown.',
  CHAIN_BAD_SIGNATURE: 'A change to this room’s members is not signed by the person it names.',
  CHAIN_ACTOR_NOT_ALLOWED: 'Someone changed this room’s members without being allowed to.',
  MESSAGE_MALFORMED: 'A message arrived damaged and cannot be shown.',
  MESSAGE_UNSUPPORTED_VERSION: 'A message uses a newer format than this version of Parley reads.',
  MESSAGE_WRONG_ROOM: 'The server delivered a message from another room here. It is not shown.',
  MESSAGE_BAD_SIGNATURE:
    'A message is not signed by the person it claims to come from. It is not shown.',
  MESSAGE_SENDER_NOT_MEMBER: 'A message came from someone who is not a member of this room.',
  MESSAGE_UNKNOWN_EPOCH:
    'A message is waiting for its room key. It will appear when a member’s device sends the key.',
  MESSAGE_DECRYPT_FAILED: 'A message could not be decrypted: it was altered or the key is wrong.',
  MESSAGE_BAD_PADDING: 'A message decrypted but its contents are damaged.',
  MESSAGE_MALFORMED_PAYLOAD: 'A message decrypted but its contents are damaged.',
  BACKUP_MALFORMED: 'The stored backup is damaged.',
  BACKUP_UNSUPPORTED_VERSION: 'The stored backup was made by a newer version of Parley.',
  BACKUP_WRONG_USER: 'The stored backup belongs to another account.',
  BACKUP_PARAMS_TOO_WEAK:
    'The stored backup is protected too weakly to be trusted; it may have been planted.',
  BACKUP_PARAMS_TOO_HIGH: 'The stored backup asks for more work than Parley will do.',
  BACKUP_DECRYPT_FAILED: 'That backup passphrase does not open your backup.',
  ATTACHMENT_MALFORMED: 'An attachment is damaged.',
  ATTACHMENT_HASH_MISMATCH: 'An attachment is not the file the sender attached.',
  ATTACHMENT_DECRYPT_FAILED: 'An attachment could not be decrypted.',
  ATTACHMENT_TRUNCATED: 'An attachment is incomplete.',
  DEVICE_SEAL_MALFORMED: 'Something this browser kept for itself is damaged; it is built again.',
  DEVICE_SEAL_DECRYPT_FAILED:
    'Something this browser kept for itself does not open; it is built again.',
  MESSAGE_DUPLICATE:
    'The server delivered a message a second time. The copy was ignored; nothing was lost.',
  MESSAGE_GAP: 'Some messages from this person never arrived. The server may have dropped them.',
  MESSAGE_FORK:
    'Two different messages claim the same place in this person’s conversation. The second is not shown.',
  KEY_CHANGED:
    'This person’s security keys changed. That happens when they set up a new device, or when someone is trying to listen in. Compare safety numbers before you trust it.',
};

/** Words for the errors calls can fail with, by code; anything else falls back to the message. */
const ERROR_TEXT: Record<string, string> = {
  INVALID_CREDENTIALS: 'Wrong username or password.',
  USERNAME_TAKEN: 'That username is taken. Try another.',
  USERNAME_INVALID: 'That username breaks the username rules.',
  PASSWORD_TOO_SHORT: 'That password is too short.',
  PASSWORD_TOO_LONG: 'That password is too long.',
  PASSWORD_TOO_COMMON: 'That password is too common. Pick something less guessable.',
  RATE_LIMITED: 'Too many attempts. Wait a minute and try again.',
  NAME_CONFUSABLE:
    'That name looks too much like someone else’s name. Pick one that cannot be mistaken for it.',
  ATTACHMENT_QUOTA_EXCEEDED:
    'Your attachment storage is full. Files go when their rooms are deleted.',
  SEND_QUEUE_FULL: 'Messages are still on their way. Wait a moment and send again.',
  AVATAR_TOO_LARGE: 'That picture is too large. Use one under 256 KB and 1024×1024 pixels.',
  NETWORK_ERROR: 'The server cannot be reached. Check your connection.',
  TIMEOUT: 'The server took too long to answer. Try again.',
  PASSPHRASE_TOO_WEAK: 'That passphrase is too easy to guess. Add more words.',
  PASSPHRASE_IS_PASSWORD:
    'The backup passphrase must differ from your password: the server sees the password, never the passphrase.',
  BACKUP_NOT_FOUND:
    'This account has no backup, so its keys cannot be restored here. Log in on the browser where you signed up.',
  BACKUP_DECRYPT_FAILED:
    'That backup passphrase does not open your backup. Check it and try again.',
  KEY_CHANGE_PENDING: 'This person’s keys changed. Review the change on their page first.',
  TAG_INVALID:
    'A tag may hold only lowercase letters, digits and dashes (no spaces), up to 32 characters, and a room at most 10 tags.',
  NOT_ALLOWED: 'You are not allowed to do that in this room.',
  NOT_AN_ADMIN: 'Only an admin of this room can do that.',
  BANNED: 'An admin of this room has banned you from it.',
  BAN_INVALID: 'You cannot ban yourself.',
  NOT_A_MEMBER: 'You are not a member of this room.',
  DIRECT_ROOM_UNVERIFIED:
    'The server points to a conversation with this person that your browser cannot verify. Try again later; if it persists, the server is misbehaving.',
  EPOCH_KEY_MISSING: 'The room key has not reached this browser yet. Wait a moment and try again.',
  USER_NOT_FOUND: 'No one has that username.',
  KEYS_NOT_PUBLISHED: 'That person has not finished setting up their account.',
  SESSION_REVOKED: 'You were signed out. Log in again.',
  ACCOUNT_DELETED: 'This account was deleted.',
  REFRESH_TOKEN_INVALID: 'Your session ended. Log in again.',
  SESSION_NOT_FOUND: 'That session has ended already.',
  CURRENT_PASSWORD_WRONG: 'That is not your current password.',
  EMAIL_INVALID: 'That is not an email address. Check it for typing mistakes.',
  EMAIL_TAKEN: 'Another account has already verified this email address.',
  EMAIL_NOT_SET: 'Add an email address first.',
  EMAIL_ALREADY_VERIFIED: 'This email address is verified already.',
  MAIL_TOKEN_INVALID: 'This link is not valid. Use the newest link from your mail.',
  MAIL_TOKEN_EXPIRED: 'This link has expired. Ask for a new one.',
  MAIL_TOKEN_USED: 'This link was used already. Ask for a new one if you still need it.',
  MAIL_NOT_SENT: 'The mail could not be sent. Try again later.',
  // Contacts and blocks. A blocked person hears the same words as a contacts-only setting gives.
  CONTACT_SELF: 'You cannot add or block yourself.',
  CONTACT_REQUEST_EXISTS: 'You asked this person already. Wait for their answer.',
  ALREADY_CONTACTS: 'You are contacts already.',
  CONTACT_REQUEST_NOT_FOUND: 'That contact request is gone: it was answered or withdrawn.',
  NOT_A_CONTACT: 'This person is not one of your contacts.',
  USER_BLOCKED: 'You blocked this person. Unblock them first.',
  NOT_BLOCKED: 'This person is not blocked.',
  DIRECT_REFUSED: 'This person does not accept direct messages from you.',
};

/** The words for an error code, when there are any. */
export function describeCode(code: string): string | undefined {
  return ERROR_TEXT[code];
}

/** A sentence for an error thrown by the client (or anything else). */
export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') {
    if (code in ERROR_TEXT) return ERROR_TEXT[code]!;
    if (code in VERIFICATION_FAILURE_TEXT) {
      return VERIFICATION_FAILURE_TEXT[code as VerificationFailureCode];
    }
  }
  return 'Something went wrong. Try again.';
}
