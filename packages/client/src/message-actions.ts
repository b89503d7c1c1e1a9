// What replies, edits, deletes and reactions have done to one room's messages. Each of them is an
// ordinary signed, encrypted message whose payload names a target (PROTOCOL.md §6.2); this module
// decides, from verified messages only, which of them take effect: an edit only from the author,
// a delete from the author or an admin of the room, a reaction from any member (one per person,
// the newest wins, an empty one takes it back). An action may arrive before its target (history
// is read newest first): it waits, a bounded number of them, until the target is here.
import { toHex } from '@parley/crypto';
import type { ReceivedMessage } from './events';

/** How many actions whose target is not here yet a room keeps waiting. */
export const MAX_WAITING_ACTIONS = 1000;
/** The longest reaction (a few emoji with modifiers, never a message smuggled in). */
export const MAX_REACTION_LENGTH = 32;

export interface MessageState {
  messageId: string;
  authorId: string;
  /** The newest text: the author's last edit, or the original. */
  text: string;
  edited: boolean;
  /** Who deleted it (the author or an admin); its text and files are no longer shown. */
  deletedBy: string | undefined;
  /** The message this one replies to, when it does. */
  replyTo: string | undefined;
  /** Person → their reaction. */
  reactions: ReadonlyMap<string, string>;
}

interface Tracked {
  state: MessageState;
  reactions: Map<string, string>;
  /** Per person, the server seq of the reaction in force (newer ones win, whatever the order seen). */
  reactionSeq: Map<string, number>;
  editSeq: number;
}

export class MessageActions {
  private readonly messages = new Map<string, Tracked>();
  private readonly waiting = new Map<string, ReceivedMessage[]>();
  private waitingCount = 0;

  /** `mayModerate(userId)`: whether the verified chain makes that person an admin of the room. */
  constructor(private readonly mayModerate: (userId: string) => boolean) {}

  get(messageId: string): MessageState | undefined {
    return this.messages.get(messageId)?.state;
  }

  /**
   * Takes a verified message of the room; returns the ids of the messages whose state it changed
   * (itself, for a new text message; its target, for an action that took effect; none otherwise).
   */
  add(message: ReceivedMessage): string[] {
    const { payload } = message;
    if (payload.kind === 'text') return this.addText(message);
    if (payload.kind === 'call') return [];
    const targetId = payload.target.length === 0 ? undefined : toHex(payload.target);
    if (targetId === undefined) return [];
    const target = this.messages.get(targetId);
    if (target === undefined) {
      this.wait(targetId, message);
      return [];
    }
    return this.apply(target, message) ? [targetId] : [];
  }

  private addText(message: ReceivedMessage): string[] {
    if (this.messages.has(message.messageId)) return [];
    const reactions = new Map<string, string>();
    const tracked: Tracked = {
      state: {
        messageId: message.messageId,
        authorId: message.senderId,
        text: message.payload.text,
        edited: false,
        deletedBy: undefined,
        replyTo: message.payload.replyTo.length === 0 ? undefined : toHex(message.payload.replyTo),
        reactions,
      },
      reactions,
      reactionSeq: new Map(),
      editSeq: -1,
    };
    this.messages.set(message.messageId, tracked);
    const early = this.waiting.get(message.messageId) ?? [];
    this.waiting.delete(message.messageId);
    this.waitingCount -= early.length;
    for (const action of early) this.apply(tracked, action);
    return [message.messageId];
  }

  /** Whether `action` changed `target`; refused actions change nothing. */
  private apply(target: Tracked, action: ReceivedMessage): boolean {
    const state = target.state;
    const sender = action.senderId;
    switch (action.payload.kind) {
      case 'edit':
        if (sender !== state.authorId || state.deletedBy !== undefined) return false;
        if (action.seq <= target.editSeq) return false;
        target.editSeq = action.seq;
        target.state = { ...state, text: action.payload.text, edited: true };
        return true;
      case 'delete':
        if (state.deletedBy !== undefined) return false;
        if (sender !== state.authorId && !this.mayModerate(sender)) return false;
        target.state = { ...state, text: '', deletedBy: sender };
        return true;
      case 'reaction': {
        const emoji = action.payload.text;
        if ([...emoji].length > MAX_REACTION_LENGTH || state.deletedBy !== undefined) return false;
        if (action.seq <= (target.reactionSeq.get(sender) ?? -1)) return false;
        target.reactionSeq.set(sender, action.seq);
        if (emoji === '') target.reactions.delete(sender);
        else target.reactions.set(sender, emoji);
        target.state = { ...state, reactions: new Map(target.reactions) };
        return true;
      }
      default:
        return false;
    }
  }

  private wait(targetId: string, action: ReceivedMessage): void {
    if (this.waitingCount >= MAX_WAITING_ACTIONS) {
      // The oldest waiting target gives way: its actions are the least likely to be paged in.
      const [oldest, actions] = this.waiting.entries().next().value!;
      this.waiting.delete(oldest);
      this.waitingCount -= actions.length;
    }
    const list = this.waiting.get(targetId) ?? [];
    if (list.some((known) => known.messageId === action.messageId)) return;
    list.push(action);
    this.waiting.set(targetId, list);
    this.waitingCount += 1;
  }
}
