// Argon2id over the backup passphrase, off the page's thread: at PROTOCOL.md §7's parameters it
// takes seconds, and on the main thread the page would freeze for all of them.
import { deriveBackupKey, isCryptoError, ready, type KdfParams } from '@parley/crypto';

export interface KeyRequest {
  passphrase: string;
  salt: Uint8Array;
  params: KdfParams;
}

export type KeyAnswer =
  { key: Uint8Array } | { error: { code: string | undefined; operation: string; message: string } };

self.onmessage = async (event: MessageEvent<KeyRequest>) => {
  const { passphrase, salt, params } = event.data;
  try {
    await ready();
    const key = deriveBackupKey(passphrase, salt, params);
    self.postMessage({ key } satisfies KeyAnswer, { transfer: [key.buffer] });
  } catch (error) {
    self.postMessage({
      error: {
        code: isCryptoError(error) ? error.code : undefined,
        operation: 'deriveBackupKey',
        // A CryptoError's message starts with its operation, given again on the page's side.
        message:
          error instanceof Error ? error.message.replace(/^deriveBackupKey: /, '') : String(error),
      },
    } satisfies KeyAnswer);
  }
};
