// Where the search index lives between runs: serialized, sealed under this device's own key
// (PROTOCOL.md §7.1, purpose `search-index`) and kept in the key store beside the rest of the
// device's state (IndexedDB in a browser, the file or memory store in Node). Writes are debounced,
// since a busy room would otherwise reseal the whole index for every message, and run one at a
// time in the order asked, so an older copy never overwrites a newer one.
import {
  fromBase64Url,
  generateDeviceKey,
  openForDevice,
  sealForDevice,
  toBase64Url,
} from '@parley/crypto';
import type { KeyStore } from '../key-store/key-store';
import type { Clock, Logger } from '../options';
import { SearchIndex } from './index';

/** The key store entries: the device key (base64url) and the sealed index (base64url). */
export const SEARCH_DEVICE_KEY = 'search:device-key';
export const SEARCH_INDEX_KEY = 'search:index';
export const SEARCH_PURPOSE = 'search-index';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SealedIndexStore {
  private key: Uint8Array | undefined;
  private timer: unknown;
  private writing: Promise<void> = Promise.resolve();
  /** How many bytes the sealed index took at its last write (for the benchmark and the docs). */
  lastSealedBytes = 0;

  constructor(
    private readonly store: KeyStore,
    private readonly userId: Uint8Array,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly delayMs: number,
  ) {}

  /** The index as last written, or a new one: none yet, or one that no longer opens. */
  async load(): Promise<SearchIndex> {
    const storedKey = await this.store.get(SEARCH_DEVICE_KEY);
    const sealed = await this.store.get(SEARCH_INDEX_KEY);
    const key = typeof storedKey === 'string' ? fromBase64Url(storedKey) : undefined;
    if (key === undefined || key.length !== 32 || typeof sealed !== 'string') {
      return new SearchIndex();
    }
    this.key = key;
    try {
      const blob = fromBase64Url(sealed);
      if (blob === undefined) throw new Error('not base64url');
      const plaintext = openForDevice(blob, this.input(key));
      return SearchIndex.parse(decoder.decode(plaintext));
    } catch (error) {
      // A damaged copy costs only the index: it is built again from what the device reads next.
      this.logger.warn('search index does not open; starting a new one', {
        error: error instanceof Error ? error.message : String(error),
      });
      return new SearchIndex();
    }
  }

  /** Writes the index after SEARCH_SAVE_DELAY_MS without a further change. */
  schedule(index: SearchIndex, beforeWrite: () => void): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      beforeWrite();
      void this.write(index).catch((error: unknown) =>
        this.logger.warn('search index not saved', { error: String(error) }),
      );
    }, this.delayMs);
    unref(this.timer);
  }

  /** Writes now if a write was scheduled; waits for writes under way. */
  async flush(index: SearchIndex, beforeWrite: () => void): Promise<void> {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      beforeWrite();
      await this.write(index);
    }
    await this.writing;
  }

  /** Cancels a scheduled write (the key store is being erased). */
  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.key = undefined;
  }

  private write(index: SearchIndex): Promise<void> {
    const json = index.serialize();
    this.writing = this.writing.then(async () => {
      const changes: [string, string][] = [];
      if (this.key === undefined) {
        this.key = generateDeviceKey();
        changes.push([SEARCH_DEVICE_KEY, toBase64Url(this.key)]);
      }
      const blob = sealForDevice(encoder.encode(json), this.input(this.key));
      this.lastSealedBytes = blob.length;
      changes.push([SEARCH_INDEX_KEY, toBase64Url(blob)]);
      // The key and the first index sealed under it land together.
      await this.store.batch(changes);
    });
    return this.writing;
  }

  private input(key: Uint8Array) {
    return { key, purpose: SEARCH_PURPOSE, userId: this.userId };
  }
}

/** A pending write must not keep a Node process (the CLI) alive on its own. */
function unref(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer) {
    (timer as { unref(): void }).unref();
  }
}
