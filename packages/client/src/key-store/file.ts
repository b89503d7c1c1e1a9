// A key store in one JSON file for Node (the CLI, bots): readable only by its owner (mode 0600, in a
// 0700 directory), replaced atomically on every write so a crash leaves the old or the new file and
// never half of one, and held by one process at a time through a lock file, because two processes
// writing the same account would each overwrite the other's sender counters.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { ClientError } from '../errors';
import type { StoredValue } from './key-store';
import { MemoryKeyStore } from './memory';

const FORMAT = 'parley-key-store';
const VERSION = 1;

interface KeyStoreFile {
  format: typeof FORMAT;
  version: typeof VERSION;
  entries: Record<string, StoredValue>;
}

export class FileKeyStore extends MemoryKeyStore {
  readonly path: string;
  private readonly lockPath: string;
  private queued: Promise<void> | undefined;
  private lastWrite: Promise<void> = Promise.resolve();
  private readonly releaseOnExit = (): void => this.releaseLock();

  /**
   * Opens (or creates) the store at `path`. Fails with KEY_STORE_LOCKED while another live process
   * holds it and with KEY_STORE_CORRUPT when the file is not a Parley key store.
   */
  static async open(path: string): Promise<FileKeyStore> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const store = new FileKeyStore(path, await readEntries(path));
    store.acquireLock();
    // An older file may have been created with a looser mode by hand; secrets stay the owner's.
    await chmod(path, 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    return store;
  }

  private constructor(path: string, entries: Record<string, StoredValue>) {
    super(Object.entries(entries));
    this.path = path;
    this.lockPath = `${path}.lock`;
  }

  override async close(): Promise<void> {
    await this.flush();
    await super.close();
    this.releaseLock();
  }

  /** Resolves when every write requested so far is on disk. */
  async flush(): Promise<void> {
    await (this.queued ?? this.lastWrite);
  }

  // Writes are serialised and coalesced: a change made while a write runs waits for it and then
  // writes the newest state once, so a burst of changes costs two writes, not one each.
  protected override persist(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    const next = this.lastWrite.then(() => {
      this.queued = undefined;
      return this.writeNow();
    });
    this.queued = next;
    this.lastWrite = next.catch(() => undefined);
    return next;
  }

  private async writeNow(): Promise<void> {
    const file: KeyStoreFile = {
      format: FORMAT,
      version: VERSION,
      entries: Object.fromEntries(this.entries),
    };
    await writeFileAtomic(this.path, `${JSON.stringify(file)}\n`, { mode: 0o600, fsync: true });
  }

  private acquireLock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        process.once('exit', this.releaseOnExit);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(readFileSync(this.lockPath, 'utf8').trim());
        if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
          throw new ClientError(
            'KEY_STORE_LOCKED',
            'FileKeyStore.open',
            `${this.path} is in use by process ${holder}`,
          );
        }
        // The holder died without releasing it: the lock is stale.
        unlinkSync(this.lockPath);
      }
    }
    throw new ClientError('KEY_STORE_LOCKED', 'FileKeyStore.open', `cannot lock ${this.path}`);
  }

  private releaseLock(): void {
    process.off('exit', this.releaseOnExit);
    try {
      if (readFileSync(this.lockPath, 'utf8').trim() === String(process.pid)) {
        unlinkSync(this.lockPath);
      }
    } catch {
      // Already gone.
    }
  }
}

async function readEntries(path: string): Promise<Record<string, StoredValue>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ClientError('KEY_STORE_CORRUPT', 'FileKeyStore.open', `${path} is not JSON`, {
      cause: error,
    });
  }
  const file = parsed as Partial<KeyStoreFile> | null;
  if (
    typeof file !== 'object' ||
    file === null ||
    file.format !== FORMAT ||
    file.version !== VERSION ||
    typeof file.entries !== 'object' ||
    file.entries === null ||
    Array.isArray(file.entries)
  ) {
    throw new ClientError(
      'KEY_STORE_CORRUPT',
      'FileKeyStore.open',
      `${path} is not a version ${VERSION} Parley key store`,
    );
  }
  return file.entries;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, which still holds the lock.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
