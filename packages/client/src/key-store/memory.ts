// A key store that lives as long as the process: tests, bots that need no persistence, and the
// state of a browser tab that must not touch disk.
import { ClientError } from '../errors';
import {
  assertChanges,
  assertStoredValue,
  copyStoredValue,
  type KeyStore,
  type KeyStoreChange,
  type StoredValue,
} from './key-store';

export class MemoryKeyStore implements KeyStore {
  protected readonly entries = new Map<string, StoredValue>();
  private closed = false;

  constructor(initial?: Iterable<readonly [string, StoredValue]>) {
    for (const [key, value] of initial ?? []) {
      assertStoredValue(value, 'MemoryKeyStore');
      this.entries.set(key, copyStoredValue(value));
    }
  }

  async get(key: string): Promise<StoredValue | undefined> {
    this.assertOpen('get');
    const value = this.entries.get(key);
    return value === undefined ? undefined : copyStoredValue(value);
  }

  async set(key: string, value: StoredValue): Promise<void> {
    await this.batch([[key, value]]);
  }

  async delete(key: string): Promise<void> {
    await this.batch([[key, undefined]]);
  }

  async batch(changes: readonly KeyStoreChange[]): Promise<void> {
    this.assertOpen('batch');
    assertChanges(changes);
    for (const [key, value] of changes) {
      if (value === undefined) this.entries.delete(key);
      else this.entries.set(key, copyStoredValue(value));
    }
    await this.persist();
  }

  async keys(prefix = ''): Promise<string[]> {
    this.assertOpen('keys');
    return [...this.entries.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  async clear(): Promise<void> {
    this.assertOpen('clear');
    this.entries.clear();
    await this.persist();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Hook for stores that mirror the entries somewhere durable. */
  protected async persist(): Promise<void> {}

  protected assertOpen(operation: string): void {
    if (this.closed)
      throw new ClientError('KEY_STORE_CLOSED', operation, 'the key store is closed');
  }
}
