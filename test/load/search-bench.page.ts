// The page side of `pnpm bench --search`, bundled by esbuild and run in Chromium: 10,000 messages
// of made-up chat go into the client's SearchIndex, then the same queries run through it and
// through a linear scan that does the same matching (every word, the last as a prefix, one typo
// forgiven in words of five letters or more) over the same texts. The index is then sealed and
// written to IndexedDB by the client's own SealedIndexStore, and opened again.
import { ready } from '@parley/crypto';
import { IndexedDbKeyStore, silentLogger, systemClock } from '@parley/client';
import { SearchIndex, type IndexedMessage } from '../../packages/client/src/search/index';
import { SealedIndexStore } from '../../packages/client/src/search/store';

export interface SearchBenchConfig {
  messages: number;
  queries: number;
  rooms: number;
  seed: number;
}

export interface SearchBenchPageResult {
  messages: number;
  indexMs: number;
  queryMs: number[];
  linearMs: number[];
  /** Queries for which the index and the scan found other messages (up to 500 each). */
  disagreements: number;
  /** Queries compared (those with fewer than 500 matches); examples of disagreements. */
  compared: number;
  examples: string[];
  meanHits: number;
  serializedBytes: number;
  sealedBytes: number;
  sealAndWriteMs: number;
  openMs: number;
}

// Common English words, so that term frequencies look like chat rather than noise.
const VOCABULARY = `the be to of and a in that have it for not on with he as you do at this but his
by from they we say her she or an will my one all would there their what so up out if about who
get which go me when make can like time no just him know take people into year your good some
could them see other than then now look only come its over think also back after use two how our
work first well way even new want because any these give day most us meeting lunch dinner coffee
train station airport ticket holiday weekend monday tuesday wednesday thursday friday saturday
sunday morning evening tonight tomorrow yesterday project deadline budget report invoice release
server database backup restore password keyboard monitor laptop garden kitchen bicycle umbrella
harbour mountain river forest village market bakery library museum theatre concert football
tennis swimming running birthday wedding party present recipe chocolate strawberry marmalade
orange lemon pepper garlic onion potato tomato cucumber carrot spinach noodle ramen sushi pizza`
  .split(/\s+/)
  .filter(Boolean);

/** A small seeded generator (mulberry32): the same messages and queries on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORD = /[^\n\r\p{Z}\p{P}]+/gu;
const WARM_UP = 20;

/** The scan's matching: the index's rules, applied to each message in turn. */
function linearSearch(messages: IndexedMessage[], query: string, limit: number): string[] {
  const words = (query.toLowerCase().match(WORD) ?? []).filter(Boolean);
  const found: IndexedMessage[] = [];
  for (const message of messages) {
    const tokens = `${message.text} ${message.senderName} ${message.roomName}`
      .toLowerCase()
      .match(WORD);
    if (tokens === null) continue;
    const all = words.every((word, index) =>
      tokens.some(
        (token) =>
          token === word ||
          (index === words.length - 1 && token.startsWith(word)) ||
          (word.length >= 5 && withinOneEdit(token, word)),
      ),
    );
    if (all) found.push(message);
  }
  return found
    .sort((a, b) => b.seq - a.seq)
    .slice(0, limit)
    .map((message) => message.id);
}

function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}

async function runSearchBench(config: SearchBenchConfig): Promise<SearchBenchPageResult> {
  await ready();
  const next = random(config.seed);
  // Chat has a few words everyone uses and a long tail of rarer ones (names, places, things):
  // the common list, and 4,000 made-up words, drawn with a Zipf-like skew.
  const syllables = ['ka', 'lo', 'mi', 'ra', 'ten', 'vo', 'shi', 'pa', 'dor', 'el', 'wyn', 'qu'];
  const tail = Array.from({ length: 4000 }, () =>
    Array.from(
      { length: 2 + Math.floor(next() * 3) },
      () => syllables[Math.floor(next() * syllables.length)],
    ).join(''),
  );
  const lexicon = [...VOCABULARY, ...tail];
  const pick = () => lexicon[Math.floor(lexicon.length * Math.pow(next(), 2.2))]!;
  const senders = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
  const messages: IndexedMessage[] = [];
  for (let i = 0; i < config.messages; i++) {
    const length = 4 + Math.floor(next() * 16);
    const words = Array.from({ length }, pick);
    messages.push({
      id: i.toString(16).padStart(32, '0'),
      roomId: `room-${i % config.rooms}`,
      roomName: `room ${i % config.rooms}`,
      seq: i + 1,
      senderId: senders[i % senders.length]!,
      senderName: senders[i % senders.length]!,
      text: `${words.join(' ')}.`,
      at: 1_700_000_000_000 + i * 60_000,
    });
  }
  // What people look for: a word of the middle and the tail, typed whole, begun, with a typo, or
  // two of them; a quarter of the queries are common words, the hardest case for an index.
  const searchable = lexicon.slice(60, 2000);
  const word = () => searchable[Math.floor(next() * searchable.length)]!;
  const queries = Array.from({ length: config.queries + WARM_UP }, (_, n) => {
    if (n % 5 === 0) return VOCABULARY[60 + Math.floor(next() * (VOCABULARY.length - 60))]!;
    if (n % 5 === 1) return word().slice(0, 4);
    if (n % 5 === 2) return `${word()} ${word()}`;
    if (n % 5 === 3) return word().replace(/.$/, 'x');
    return word();
  });

  const index = new SearchIndex();
  const started = performance.now();
  for (const message of messages) index.add(message);
  const indexMs = performance.now() - started;

  const queryMs: number[] = [];
  const linearMs: number[] = [];
  let disagreements = 0;
  let compared = 0;
  const examples: string[] = [];
  let hits = 0;
  for (const [n, query] of queries.entries()) {
    const t0 = performance.now();
    const found = index.search(query, { limit: 20 });
    const t1 = performance.now();
    linearSearch(messages, query, 20);
    const t2 = performance.now();
    // The first queries warm the JIT up for both, and are not counted.
    if (n < WARM_UP) continue;
    queryMs.push(t1 - t0);
    linearMs.push(t2 - t1);
    hits += found.length;
    // The same messages found, whatever their order (the index ranks, the scan takes the newest).
    // Compared where both can list everything they found (under 500).
    const scanned = linearSearch(messages, query, 500);
    if (scanned.length === 500) continue;
    compared += 1;
    const all = new Set(index.search(query, { limit: 500 }).map((hit) => hit.messageId));
    if (all.size !== scanned.length || scanned.some((id) => !all.has(id))) {
      disagreements += 1;
      if (examples.length < 3) examples.push(query);
    }
  }

  const json = index.serialize();
  const store = await IndexedDbKeyStore.open(`parley-search-bench-${config.seed}`);
  await store.clear();
  const sealed = new SealedIndexStore(
    store,
    new Uint8Array(16).fill(7),
    systemClock,
    silentLogger,
    0,
  );
  const t3 = performance.now();
  sealed.schedule(index, () => undefined);
  await sealed.flush(index, () => undefined);
  const sealAndWriteMs = performance.now() - t3;
  const t4 = performance.now();
  const reopened = await new SealedIndexStore(
    store,
    new Uint8Array(16).fill(7),
    systemClock,
    silentLogger,
    0,
  ).load();
  const openMs = performance.now() - t4;
  if (reopened.size !== messages.length) throw new Error('the reopened index lost messages');
  await store.clear();
  await store.close();
  return {
    messages: messages.length,
    indexMs,
    queryMs,
    linearMs,
    disagreements,
    compared,
    examples,
    meanHits: hits / queries.length,
    serializedBytes: new TextEncoder().encode(json).length,
    sealedBytes: sealed.lastSealedBytes,
    sealAndWriteMs,
    openMs,
  };
}

(globalThis as { runSearchBench?: typeof runSearchBench }).runSearchBench = runSearchBench;
