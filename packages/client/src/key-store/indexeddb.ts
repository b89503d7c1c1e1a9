// A key store in the browser's IndexedDB, one database per account, through the `idb` wrapper.
// IndexedDB keeps structured clones, so the JSON records of the other stores work unchanged.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { ClientError } from '../errors';
import {
  assertChanges,
  prefixEnd,
  type KeyStore,
  type KeyStoreChange,
  type StoredValue,
} from './key-store';

const STORE = 'entries';

interface KeyStoreSchema extends DBSchema {
  [STORE]: { key: string; value: StoredValue };
}

export class IndexedDbKeyStore implements KeyStore {
  private closed = false;

  /** Opens (or creates) the database `name`, e.g. `parley:<username>`. */
  static async open(name: string): Promise<IndexedDbKeyStore> {
    if (typeof indexedDB === 'undefined') {
      throw new ClientError(
        'INVALID_ARGUMENT',
        'IndexedDbKeyStore.open',
        'IndexedDB is not available here',
      );
    }
    const db = await openDB<KeyStoreSchema>(name, 1, {
      upgrade(database) {
        database.createObjectStore(STORE);
      },
    });
    return new IndexedDbKeyStore(db);
  }

  private constructor(private readonly db: IDBPDatabase<KeyStoreSchema>) {}

  async get(key: string): Promise<StoredValue | undefined> {
    this.assertOpen('get');
    return this.db.get(STORE, key);
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
    // One transaction: IndexedDB commits all of it or, on any failure, none of it.
    const tx = this.db.transaction(STORE, 'readwrite');
    await Promise.all([
      ...changes.map(([key, value]) =>
        value === undefined ? tx.store.delete(key) : tx.store.put(value, key),
      ),
      tx.done,
    ]);
  }

  async keys(prefix = ''): Promise<string[]> {
    this.assertOpen('keys');
    const range = prefix === '' ? undefined : IDBKeyRange.bound(prefix, prefixEnd(prefix));
    return this.db.getAllKeys(STORE, range);
  }

  async clear(): Promise<void> {
    this.assertOpen('clear');
    await this.db.clear(STORE);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.db.close();
  }

  private assertOpen(operation: string): void {
    if (this.closed)
      throw new ClientError('KEY_STORE_CLOSED', operation, 'the key store is closed');
  }
}
