import 'fake-indexeddb/auto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientError, type ClientErrorCode } from '../src/errors';
import { FileKeyStore } from '../src/key-store/file';
import { IndexedDbKeyStore } from '../src/key-store/indexeddb';
import type { KeyStore } from '../src/key-store/key-store';
import { MemoryKeyStore } from '../src/key-store/memory';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'parley-key-store-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function expectCode(action: Promise<unknown>, code: ClientErrorCode): Promise<void> {
  const error = await action.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ClientError);
  expect((error as ClientError).code).toBe(code);
}

let databases = 0;
const implementations: [string, () => Promise<KeyStore>][] = [
  ['memory', async () => new MemoryKeyStore()],
  ['file', async () => FileKeyStore.open(join(directory, 'store.json'))],
  ['indexeddb', async () => IndexedDbKeyStore.open(`parley-test-${++databases}`)],
];

describe.each(implementations)('%s key store', (_name, open) => {
  it('stores, reads, lists by prefix in order, deletes and clears', async () => {
    const store = await open();
    await store.set('room:b', { lastSeq: 2 });
    await store.set('room:a', { lastSeq: 1, tags: ['x', 'y'], nested: { ok: true, none: null } });
    await store.set('contact:1', 'alice');
    expect(await store.get('room:a')).toEqual({
      lastSeq: 1,
      tags: ['x', 'y'],
      nested: { ok: true, none: null },
    });
    expect(await store.keys('room:')).toEqual(['room:a', 'room:b']);
    expect(await store.keys()).toEqual(['contact:1', 'room:a', 'room:b']);
    await store.delete('room:a');
    expect(await store.get('room:a')).toBeUndefined();
    await store.clear();
    expect(await store.keys()).toEqual([]);
    await store.close();
  });

  it('returns copies: changing what was read or written does not change the store', async () => {
    const store = await open();
    const value = { list: [1, 2] };
    await store.set('k', value);
    value.list.push(3);
    const read = (await store.get('k')) as { list: number[] };
    read.list.push(4);
    expect(await store.get('k')).toEqual({ list: [1, 2] });
    await store.close();
  });

  it('applies a batch whole, and refuses one holding a value that is not JSON without writing any of it', async () => {
    const store = await open();
    await store.set('a', 1);
    await store.batch([
      ['a', undefined],
      ['b', 2],
      ['c', 3],
    ]);
    expect(await store.keys()).toEqual(['b', 'c']);
    await expectCode(
      store.batch([
        ['d', 4],
        ['e', new Uint8Array(2) as never],
      ]),
      'KEY_STORE_INVALID_VALUE',
    );
    await expectCode(store.set('f', Number.NaN), 'KEY_STORE_INVALID_VALUE');
    expect(await store.keys()).toEqual(['b', 'c']);
    await store.close();
  });

  it('fails with KEY_STORE_CLOSED after close', async () => {
    const store = await open();
    await store.close();
    await expectCode(store.get('a'), 'KEY_STORE_CLOSED');
    await expectCode(store.set('a', 1), 'KEY_STORE_CLOSED');
  });
});

describe('file key store', () => {
  it('keeps its entries across reopening, in a file only its owner can read', async () => {
    const path = join(directory, 'home', 'keys.json');
    const first = await FileKeyStore.open(path);
    await first.batch([
      ['account', { userId: 'ab', seed: 'c2VjcmV0' }],
      ['room:1', { lastSeq: 7 }],
    ]);
    await first.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(directory, 'home'))).mode & 0o777).toBe(0o700);
    const second = await FileKeyStore.open(path);
    expect(await second.get('room:1')).toEqual({ lastSeq: 7 });
    expect(await second.keys()).toEqual(['account', 'room:1']);
    await second.close();
  });

  it('writes every change of a burst, coalescing them into few writes', async () => {
    const path = join(directory, 'keys.json');
    const store = await FileKeyStore.open(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.set(`k${i}`, i)));
    const onDisk = JSON.parse(await readFile(path, 'utf8')) as { entries: Record<string, number> };
    expect(Object.keys(onDisk.entries)).toHaveLength(50);
    expect(onDisk.entries.k49).toBe(49);
    await store.close();
  });

  it('is held by one process at a time, and a stale lock of a dead process is taken over', async () => {
    const path = join(directory, 'keys.json');
    const store = await FileKeyStore.open(path);
    await expectCode(FileKeyStore.open(path), 'KEY_STORE_LOCKED');
    await store.close();
    // A lock left by a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max default).
    await writeFile(`${path}.lock`, String(2 ** 22 + 1));
    const again = await FileKeyStore.open(path);
    await again.set('a', 1);
    await again.close();
  });

  it('refuses a file that is not a Parley key store, and leaves it as it was', async () => {
    const path = join(directory, 'keys.json');
    await writeFile(path, 'not json');
    await expectCode(FileKeyStore.open(path), 'KEY_STORE_CORRUPT');
    await writeFile(path, JSON.stringify({ format: 'other', version: 1, entries: {} }));
    await expectCode(FileKeyStore.open(path), 'KEY_STORE_CORRUPT');
    expect(await readFile(path, 'utf8')).toContain('other');
  });

  it('tightens the mode of an existing file opened with a looser one', async () => {
    const path = join(directory, 'keys.json');
    await writeFile(path, JSON.stringify({ format: 'parley-key-store', version: 1, entries: {} }), {
      mode: 0o644,
    });
    const store = await FileKeyStore.open(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await store.close();
  });
});

describe('IndexedDB key store', () => {
  it('keeps its entries across reopening the same database', async () => {
    const first = await IndexedDbKeyStore.open('parley-reopen');
    await first.set('account', { userId: 'ab' });
    await first.close();
    const second = await IndexedDbKeyStore.open('parley-reopen');
    expect(await second.get('account')).toEqual({ userId: 'ab' });
    await second.close();
  });
});
