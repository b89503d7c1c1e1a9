// The client's `deriveBackupKey` for browsers: one Web Worker per derivation (key.worker.ts), ended
// when it answers, so no derived key or passphrase outlives the step in a worker's memory.
import { CryptoError, type CryptoErrorCode, type KdfParams } from '@parley/crypto';
import type { KeyAnswer, KeyRequest } from './key.worker';

export function deriveBackupKeyInWorker(
  passphrase: string,
  salt: Uint8Array,
  params: KdfParams,
): Promise<Uint8Array> {
  const worker = new Worker(new URL('./key.worker.ts', import.meta.url), { type: 'module' });
  return new Promise<Uint8Array>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<KeyAnswer>) => {
      const answer = event.data;
      if ('key' in answer) resolve(answer.key);
      else if (answer.error.code !== undefined) {
        const { code, operation, message } = answer.error;
        reject(new CryptoError(code as CryptoErrorCode, operation, message));
      } else reject(new Error(`deriveBackupKey: ${answer.error.message}`));
    };
    worker.onerror = (event) => reject(new Error(`deriveBackupKey: ${event.message}`));
    worker.postMessage({ passphrase, salt, params } satisfies KeyRequest);
  }).finally(() => worker.terminate());
}
