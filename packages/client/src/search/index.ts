// The full-text index over this device's decrypted history: MiniSearch over each message's text,
// its sender's name and its room's name, with what a result shows stored beside it. It holds only
// what the device has read and still may show: an edit replaces the text, a delete, a disappeared
// message and a forgotten room leave it whole (removed term by term, not only marked, so the sealed
// copy no longer holds their words either). Pure: no clock, no store, no client; `search.ts` wires it.
import MiniSearch, { type SearchResult } from 'minisearch';

/** One indexed message, as the index stores it. */
export interface IndexedMessage {
  /** The message id (hex), MiniSearch's document id. */
  id: string;
  roomId: string;
  roomName: string;
  seq: number;
  senderId: string;
  senderName: string;
  /** The newest text (the author's last edit). */
  text: string;
  /** When it was sent (ms since the epoch): the earlier of the sender's and the server's clocks. */
  at: number;
}

/** A run of a snippet; `match` runs are the words the query found. */
export interface SnippetPart {
  text: string;
  match: boolean;
}

export interface SearchHit {
  roomId: string;
  roomName: string;
  messageId: string;
  seq: number;
  senderId: string;
  senderName: string;
  /** ISO 8601. */
  time: string;
  /** A window of the text around the first match, with the matched words marked. */
  snippet: SnippetPart[];
  score: number;
}

export interface SearchOptions {
  /** Only this room's messages. */
  roomId?: string;
  /** At most this many hits, best first (default 50). */
  limit?: number;
  /** Leaves out messages for which it is false (the disappearing-message timer, say). */
  keep?: (roomId: string, at: number) => boolean;
}

/** The longest query taken; longer ones are cut (a query is typed, not pasted history). */
export const MAX_QUERY_LENGTH = 256;
/** Characters of context either side of the first match in a snippet. */
const SNIPPET_CONTEXT = 48;
/** Edits and deletes whose target has not been read yet, kept until it is (history pages back). */
const MAX_PENDING = 2000;
const FORMAT = 1;
const STORED: (keyof IndexedMessage)[] = [
  'roomId',
  'roomName',
  'seq',
  'senderId',
  'senderName',
  'text',
  'at',
];
// MiniSearch's own word boundaries (spaces and punctuation), so snippets mark what it matched.
const WORD = /[^\n\r\p{Z}\p{P}]+/gu;

/** What the sealed copy holds: MiniSearch's JSON and the actions still waiting for a target. */
interface Serialized {
  format: typeof FORMAT;
  index: unknown;
  edits: [string, { text: string; seq: number; senderId: string }][];
  deleted: [string, Deletion][];
}

/** A delete that took effect or waits for its target: who made it, and whether as an admin. */
interface Deletion {
  by: string;
  moderator: boolean;
}

export class SearchIndex {
  private mini: MiniSearch<IndexedMessage>;
  private readonly byRoom = new Map<string, Set<string>>();
  /** Edits whose target is not indexed yet: target id → the newest edit seen. */
  private readonly pendingEdits = new Map<
    string,
    { text: string; seq: number; senderId: string }
  >();
  /** Deletes seen, by target: a target read later (history pages back) is not indexed. */
  private readonly deleted = new Map<string, Deletion>();

  constructor() {
    this.mini = new MiniSearch<IndexedMessage>(miniOptions());
  }

  /** Restores an index from `serialize()`'s output. */
  static parse(json: string): SearchIndex {
    const data = JSON.parse(json) as Serialized;
    if (data.format !== FORMAT) throw new Error(`SearchIndex.parse: format ${String(data.format)}`);
    const index = new SearchIndex();
    index.mini = MiniSearch.loadJSON<IndexedMessage>(JSON.stringify(data.index), miniOptions());
    for (const [target, edit] of data.edits) index.pendingEdits.set(target, edit);
    for (const [id, deletion] of data.deleted) index.deleted.set(id, deletion);
    // The room of each message, from MiniSearch's own serialized ids and stored fields.
    const { documentIds, storedFields } = data.index as {
      documentIds: Record<string, string>;
      storedFields: Record<string, { roomId: string }>;
    };
    for (const [short, id] of Object.entries(documentIds)) {
      const roomId = storedFields[short]?.roomId;
      if (roomId !== undefined) index.noteRoom(roomId, id);
    }
    return index;
  }

  serialize(): string {
    const data: Serialized = {
      format: FORMAT,
      index: this.mini.toJSON(),
      edits: [...this.pendingEdits],
      deleted: [...this.deleted],
    };
    return JSON.stringify(data);
  }

  get size(): number {
    return this.mini.documentCount;
  }

  has(messageId: string): boolean {
    return this.mini.has(messageId);
  }

  get(messageId: string): IndexedMessage | undefined {
    const stored = this.mini.getStoredFields(messageId) as Omit<IndexedMessage, 'id'> | undefined;
    return stored === undefined ? undefined : { id: messageId, ...stored };
  }

  /** Adds a message read for the first time; a known one, or one deleted already, is left as it is. */
  add(message: IndexedMessage): boolean {
    if (this.mini.has(message.id)) return false;
    const deletion = this.deleted.get(message.id);
    if (deletion !== undefined) {
      if (deletion.by === message.senderId || deletion.moderator) return false;
      this.deleted.delete(message.id);
    }
    const edit = this.pendingEdits.get(message.id);
    this.pendingEdits.delete(message.id);
    const text =
      edit !== undefined && edit.senderId === message.senderId ? edit.text : message.text;
    this.mini.add({ ...message, text });
    this.noteRoom(message.roomId, message.id);
    return true;
  }

  /**
   * An edit by `senderId` of `targetId` at `seq`: replaces the text when the target is indexed and
   * its author made the edit; waits for the target otherwise. The newest edit wins.
   */
  edit(targetId: string, edit: { text: string; seq: number; senderId: string }): boolean {
    const current = this.get(targetId);
    if (current === undefined) {
      const waiting = this.pendingEdits.get(targetId);
      if (this.deleted.has(targetId) || (waiting !== undefined && waiting.seq >= edit.seq))
        return false;
      this.pendingEdits.set(targetId, edit);
      trim(this.pendingEdits, MAX_PENDING);
      return false;
    }
    if (current.senderId !== edit.senderId) return false;
    this.mini.remove(current);
    this.mini.add({ ...current, text: edit.text });
    return true;
  }

  /**
   * A delete of `targetId` by `by` (`moderator`: an admin of the room): it takes effect when `by`
   * wrote the message or is a moderator; the message leaves and stays out if read again. A target
   * not read yet is judged when it comes.
   */
  delete(targetId: string, by: string, moderator: boolean): boolean {
    const current = this.get(targetId);
    if (current !== undefined && current.senderId !== by && !moderator) return false;
    this.deleted.set(targetId, { by, moderator });
    trim(this.deleted, MAX_PENDING * 5);
    this.pendingEdits.delete(targetId);
    return this.remove(targetId);
  }

  /** Removes one message (disappeared): every one of its terms leaves the index. */
  remove(messageId: string): boolean {
    const current = this.get(messageId);
    if (current === undefined) return false;
    this.mini.remove(current);
    this.byRoom.get(current.roomId)?.delete(messageId);
    return true;
  }

  /** Forgets every message of a room (left, removed, expired or deleted). Returns how many. */
  forgetRoom(roomId: string): number {
    const ids = [...(this.byRoom.get(roomId) ?? [])];
    for (const id of ids) this.remove(id);
    this.byRoom.delete(roomId);
    return ids.length;
  }

  /** The room was renamed: its messages are found under the new name. */
  renameRoom(roomId: string, roomName: string): void {
    for (const id of this.byRoom.get(roomId) ?? []) {
      const current = this.get(id);
      if (current === undefined || current.roomName === roomName) continue;
      this.mini.remove(current);
      this.mini.add({ ...current, roomName });
    }
  }

  /** Removes the messages for which `gone` holds (past a room's timer). Returns how many. */
  removeWhere(gone: (message: IndexedMessage) => boolean): number {
    let count = 0;
    for (const message of this.all()) {
      if (gone(message) && this.remove(message.id)) count += 1;
    }
    return count;
  }

  roomsIndexed(): string[] {
    return [...this.byRoom].filter(([, ids]) => ids.size > 0).map(([roomId]) => roomId);
  }

  messagesOf(roomId: string): IndexedMessage[] {
    return [...(this.byRoom.get(roomId) ?? [])]
      .map((id) => this.get(id))
      .filter((message): message is IndexedMessage => message !== undefined);
  }

  /**
   * Every word of the query must match (the last one as a prefix, as it is being typed; longer
   * words forgive a typo). Best first.
   */
  search(query: string, options: SearchOptions = {}): SearchHit[] {
    const text = query.slice(0, MAX_QUERY_LENGTH).trim();
    if (text === '') return [];
    const limit = Math.max(1, Math.min(options.limit ?? 50, 500));
    const results = this.mini.search(text, {
      combineWith: 'AND',
      prefix: (_term, index, terms) => index === terms.length - 1,
      fuzzy: (term) => (term.length >= 5 ? 1 : false),
      // Called for every match before ranking: it reads two stored fields and builds nothing.
      filter: (result) => {
        const roomId = result['roomId'] as string;
        if (options.roomId !== undefined && roomId !== options.roomId) return false;
        return options.keep === undefined || options.keep(roomId, result['at'] as number);
      },
    });
    // MiniSearch ranks best first; only the shown results are built.
    return results.slice(0, limit).map((result) => {
      const message = storedOf(result);
      return {
        roomId: message.roomId,
        roomName: message.roomName,
        messageId: message.id,
        seq: message.seq,
        senderId: message.senderId,
        senderName: message.senderName,
        time: new Date(message.at).toISOString(),
        snippet: snippetOf(message.text, new Set(result.terms)),
        score: result.score,
      };
    });
  }

  /** Every message, in no particular order. */
  private all(): IndexedMessage[] {
    const out: IndexedMessage[] = [];
    for (const ids of this.byRoom.values()) {
      for (const id of ids) {
        const message = this.get(id);
        if (message !== undefined) out.push(message);
      }
    }
    return out;
  }

  private noteRoom(roomId: string, messageId: string): void {
    let ids = this.byRoom.get(roomId);
    if (ids === undefined) {
      ids = new Set();
      this.byRoom.set(roomId, ids);
    }
    ids.add(messageId);
  }
}

/**
 * The text around the first word the query matched, split into marked and unmarked runs. Words are
 * compared as MiniSearch compares them (lower case), a prefix query marking the word it began.
 */
export function snippetOf(text: string, terms: ReadonlySet<string>): SnippetPart[] {
  const matches: { start: number; end: number }[] = [];
  for (const word of text.matchAll(WORD)) {
    const lower = word[0].toLowerCase();
    if (terms.has(lower)) matches.push({ start: word.index, end: word.index + word[0].length });
  }
  const first = matches[0];
  const from = first === undefined ? 0 : Math.max(0, first.start - SNIPPET_CONTEXT);
  const to = Math.min(text.length, (first?.end ?? 0) + SNIPPET_CONTEXT * 2);
  const parts: SnippetPart[] = [];
  const push = (piece: string, match: boolean) => {
    if (piece !== '') parts.push({ text: piece, match });
  };
  if (from > 0) push('…', false);
  let at = from;
  for (const match of matches) {
    if (match.end > to) break;
    if (match.start < from) continue;
    push(text.slice(at, match.start), false);
    push(text.slice(match.start, match.end), true);
    at = match.end;
  }
  push(text.slice(at, to), false);
  if (to < text.length) push('…', false);
  return parts;
}

function miniOptions() {
  return {
    fields: ['text', 'senderName', 'roomName'],
    storeFields: STORED,
    // Room and sender names help, but a match in the text itself is what is looked for.
    searchOptions: { boost: { text: 2 } },
    // Removal is exact (remove(), not discard()), so nothing waits for a vacuum.
    autoVacuum: false,
  };
}

function storedOf(result: SearchResult): IndexedMessage {
  return {
    id: result.id as string,
    roomId: result['roomId'] as string,
    roomName: result['roomName'] as string,
    seq: result['seq'] as number,
    senderId: result['senderId'] as string,
    senderName: result['senderName'] as string,
    text: result['text'] as string,
    at: result['at'] as number,
  };
}

/** Drops the oldest entries past `most`, so a flood of actions cannot grow the index unbounded. */
function trim<K, V>(map: Map<K, V>, most: number): void {
  while (map.size > most) map.delete(map.keys().next().value as K);
}
