import { ready } from '@parley/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SearchIndex, snippetOf, type IndexedMessage } from '../src/search/index';
import { SEARCH_DEVICE_KEY, SEARCH_INDEX_KEY, SealedIndexStore } from '../src/search/store';
import { MemoryKeyStore } from '../src/key-store/memory';
import { silentLogger, systemClock } from '../src/options';

beforeAll(ready);

let next = 0;
function message(text: string, extra: Partial<IndexedMessage> = {}): IndexedMessage {
  next += 1;
  return {
    id: next.toString(16).padStart(32, '0'),
    roomId: 'r1',
    roomName: 'friends',
    seq: next,
    senderId: 'alice-id',
    senderName: 'alice',
    text,
    at: 1_700_000_000_000 + next,
    ...extra,
  };
}

const plain = (hit: { snippet: { text: string }[] }) =>
  hit.snippet.map((part) => part.text).join('');
const marked = (hit: { snippet: { text: string; match: boolean }[] }) =>
  hit.snippet.filter((part) => part.match).map((part) => part.text);

describe('SearchIndex', () => {
  it('finds every word, the last as a prefix, with the match marked in a snippet', () => {
    const index = new SearchIndex();
    const harbour = message('Meet me at the Harbour at noon, bring the charts');
    index.add(harbour);
    index.add(message('the harbour master is away'));
    index.add(message('noon is fine'));
    const hits = index.search('harbour no');
    expect(hits.map((hit) => hit.messageId)).toEqual([harbour.id]);
    expect(marked(hits[0]!)).toEqual(['Harbour', 'noon']);
    expect(plain(hits[0]!)).toContain('Meet me at the Harbour at noon');
    expect(hits[0]).toMatchObject({
      roomId: 'r1',
      roomName: 'friends',
      senderName: 'alice',
      seq: harbour.seq,
    });
    expect(hits[0]!.time).toBe(new Date(harbour.at).toISOString());
    expect(index.search('   ')).toEqual([]);
    expect(index.search('lighthouse')).toEqual([]);
  });

  it('forgives a typo in a longer word, and finds by sender and room name', () => {
    const index = new SearchIndex();
    const m = message('the quarterly numbers are in', { senderName: 'bob', roomName: 'finance' });
    index.add(m);
    expect(index.search('quartely').map((hit) => hit.messageId)).toEqual([m.id]);
    expect(index.search('bob numbers').map((hit) => hit.messageId)).toEqual([m.id]);
    expect(index.search('finance').map((hit) => hit.messageId)).toEqual([m.id]);
    // Words under five letters must be spelled as they are ('are', typed 'aer').
    expect(index.search('aer')).toEqual([]);
  });

  it('searches one room, and keeps to a limit', () => {
    const index = new SearchIndex();
    for (let i = 0; i < 5; i++) index.add(message(`apples ${i}`, { roomId: 'r1' }));
    const other = message('apples elsewhere', { roomId: 'r2' });
    index.add(other);
    expect(index.search('apples', { roomId: 'r2' }).map((hit) => hit.messageId)).toEqual([
      other.id,
    ]);
    expect(index.search('apples', { limit: 3 })).toHaveLength(3);
    expect(index.search('apples')).toHaveLength(6);
  });

  it('takes an edit from the author only, the newest one, even before its target is read', () => {
    const index = new SearchIndex();
    const original = message('see you on tuesday');
    index.add(original);
    expect(
      index.edit(original.id, { text: 'see you on wednesday', seq: 100, senderId: 'mallory' }),
    ).toBe(false);
    expect(
      index.edit(original.id, { text: 'see you on wednesday', seq: 101, senderId: 'alice-id' }),
    ).toBe(true);
    expect(index.search('tuesday')).toEqual([]);
    expect(index.search('wednesday')).toHaveLength(1);

    // History pages back: the edits come first, the older one after the newer.
    const later = message('the cake is chocolate');
    index.edit(later.id, { text: 'the cake is lemon', seq: 300, senderId: 'alice-id' });
    index.edit(later.id, { text: 'the cake is carrot', seq: 200, senderId: 'alice-id' });
    index.add(later);
    expect(index.search('lemon')).toHaveLength(1);
    expect(index.search('chocolate')).toEqual([]);
    expect(index.search('carrot')).toEqual([]);
  });

  it('takes a delete from the author or a moderator, and keeps a deleted message out when read again', () => {
    const index = new SearchIndex();
    const m = message('secret plans for the party');
    index.add(m);
    expect(index.delete(m.id, 'mallory', false)).toBe(false);
    expect(index.search('party')).toHaveLength(1);
    expect(index.delete(m.id, 'admin-id', true)).toBe(true);
    expect(index.search('party')).toEqual([]);
    expect(index.add(m)).toBe(false);
    expect(index.serialize()).not.toContain('secret');

    const early = message('deleted before it was read');
    index.delete(early.id, 'alice-id', false);
    expect(index.add(early)).toBe(false);
    const forged = message('a delete by someone else does not count', { senderId: 'bob-id' });
    index.delete(forged.id, 'mallory', false);
    expect(index.add(forged)).toBe(true);
  });

  it('forgets a room whole, removes what is past a timer, and follows a rename', () => {
    const index = new SearchIndex();
    index.add(message('lunch plans', { roomId: 'r1' }));
    index.add(message('lunch menu', { roomId: 'r1' }));
    const kept = message('lunch elsewhere', { roomId: 'r2', roomName: 'team' });
    index.add(kept);
    expect(index.forgetRoom('r1')).toBe(2);
    expect(index.search('lunch').map((hit) => hit.messageId)).toEqual([kept.id]);
    expect(index.serialize()).not.toContain('menu');

    index.renameRoom('r2', 'squad');
    expect(index.search('squad')).toHaveLength(1);
    expect(index.search('team')).toEqual([]);

    expect(index.removeWhere((m) => m.id === kept.id)).toBe(1);
    expect(index.size).toBe(0);
    expect(index.serialize()).not.toContain('elsewhere');
  });

  it('survives serialization with its rooms and waiting actions', () => {
    const index = new SearchIndex();
    index.add(message('one fish', { roomId: 'r1' }));
    index.add(message('two fish', { roomId: 'r2' }));
    const waiting = message('red fish');
    index.edit(waiting.id, { text: 'blue fish', seq: 999, senderId: 'alice-id' });
    const copy = SearchIndex.parse(index.serialize());
    expect(copy.search('fish')).toHaveLength(2);
    expect(copy.forgetRoom('r2')).toBe(1);
    copy.add(waiting);
    expect(copy.search('blue')).toHaveLength(1);
    expect(copy.search('red')).toEqual([]);
  });
});

describe('snippetOf', () => {
  it('cuts long text around the first match and marks every match in the window', () => {
    const text = `${'a '.repeat(100)}the needle and another needle ${'b '.repeat(100)}`;
    const parts = snippetOf(text, new Set(['needle']));
    expect(parts[0]).toEqual({ text: '…', match: false });
    expect(parts.at(-1)).toEqual({ text: '…', match: false });
    expect(parts.filter((part) => part.match).map((part) => part.text)).toEqual([
      'needle',
      'needle',
    ]);
    expect(parts.map((part) => part.text).join('').length).toBeLessThan(200);
  });

  it('marks nothing when nothing matched in the text (a sender or room match)', () => {
    expect(snippetOf('hello there', new Set(['bob']))).toEqual([
      { text: 'hello there', match: false },
    ]);
  });
});

describe('SealedIndexStore', () => {
  it('keeps the index sealed in the key store under a device key, and opens it again', async () => {
    const store = new MemoryKeyStore();
    const userId = new Uint8Array(16).fill(5);
    const sealed = new SealedIndexStore(store, userId, systemClock, silentLogger, 10);
    const index = await sealed.load();
    index.add(message('the treasure is under the oak'));
    sealed.schedule(index, () => undefined);
    await sealed.flush(index, () => undefined);
    const raw = JSON.stringify(await store.get(SEARCH_INDEX_KEY));
    expect(raw).not.toContain('treasure');
    expect(typeof (await store.get(SEARCH_DEVICE_KEY))).toBe('string');
    expect(sealed.lastSealedBytes).toBeGreaterThan(0);

    const reopened = await new SealedIndexStore(
      store,
      userId,
      systemClock,
      silentLogger,
      10,
    ).load();
    expect(reopened.search('treasure')).toHaveLength(1);
    // Another account's id does not open it: a new, empty index.
    const other = await new SealedIndexStore(
      store,
      new Uint8Array(16),
      systemClock,
      silentLogger,
      10,
    ).load();
    expect(other.size).toBe(0);
  });

  it('starts a new index when the sealed copy was changed', async () => {
    const store = new MemoryKeyStore();
    const userId = new Uint8Array(16).fill(5);
    const sealed = new SealedIndexStore(store, userId, systemClock, silentLogger, 10);
    const index = await sealed.load();
    index.add(message('hello'));
    sealed.schedule(index, () => undefined);
    await sealed.flush(index, () => undefined);
    const blob = (await store.get(SEARCH_INDEX_KEY)) as string;
    await store.set(SEARCH_INDEX_KEY, `${blob.slice(0, -4)}AAAA`);
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (text: string) => void warnings.push(text) };
    const reopened = await new SealedIndexStore(store, userId, systemClock, logger, 10).load();
    expect(reopened.size).toBe(0);
    expect(warnings).toEqual(['search index does not open; starting a new one']);
  });
});
