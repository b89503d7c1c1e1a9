// Where a device keeps its secrets and everything it has verified: the account's seeds, session
// tokens, pinned contacts, room keys and chain checkpoints, and the outbox. One key store holds one
// account. Values are JSON so that the same records work in memory, in a file and in IndexedDB.
import { ClientError } from '../errors';

export type StoredValue =
  null | boolean | number | string | StoredValue[] | { [key: string]: StoredValue };

/** A write of a batch: a value to store, or undefined to delete the key. */
export type KeyStoreChange = readonly [key: string, value: StoredValue | undefined];

export interface KeyStore {
  get(key: string): Promise<StoredValue | undefined>;
  set(key: string, value: StoredValue): Promise<void>;
  delete(key: string): Promise<void>;
  /** Applies every change or none, so that related records never disagree after a crash. */
  batch(changes: readonly KeyStoreChange[]): Promise<void>;
  /** Every key starting with `prefix`, in ascending order. */
  keys(prefix?: string): Promise<string[]>;
  /** Removes everything (log out on a shared device, or a failed restore). */
  clear(): Promise<void>;
  /** Finishes pending writes and releases the store; later calls fail with KEY_STORE_CLOSED. */
  close(): Promise<void>;
}

/** Checks that a value survives JSON unchanged, so every store implementation accepts the same values. */
export function assertStoredValue(value: unknown, operation: string, path = 'value'): void {
  const fail = (detail: string): never => {
    throw new ClientError('KEY_STORE_INVALID_VALUE', operation, `${path}: ${detail}`);
  };
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('numbers must be finite');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertStoredValue(item, operation, `${path}[${index}]`));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      assertStoredValue(item, operation, `${path}.${key}`);
    }
    return;
  }
  fail(
    `not JSON (${value instanceof Uint8Array ? 'bytes: encode them as base64url' : typeof value})`,
  );
}

/** Checks every change of a batch before any is applied, so a batch applies whole or not at all. */
export function assertChanges(changes: readonly KeyStoreChange[]): void {
  for (const [key, value] of changes) {
    if (typeof key !== 'string' || key.length === 0) {
      throw new ClientError('INVALID_ARGUMENT', 'batch', 'keys are non-empty strings');
    }
    if (value !== undefined) assertStoredValue(value, 'batch', key);
  }
}

/** A deep copy, so that a caller mutating a record it read or wrote cannot change the store. */
export function copyStoredValue<T extends StoredValue>(value: T): T {
  return structuredClone(value);
}

/** The upper bound of a key range holding every key that starts with `prefix`. */
export function prefixEnd(prefix: string): string {
  return `${prefix}\uffff`;
}
