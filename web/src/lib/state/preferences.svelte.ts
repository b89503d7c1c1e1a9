// Per-account choices that belong to this browser only: read markers, muted rooms, do not disturb,
// browser notifications. No message text or key is kept here; localStorage holds only these flags.

interface Stored {
  lastRead: Record<string, number>;
  lastActivity: Record<string, string>;
  muted: string[];
  doNotDisturb: boolean;
  notifications: boolean;
}

const EMPTY: Stored = {
  lastRead: {},
  lastActivity: {},
  muted: [],
  doNotDisturb: false,
  notifications: false,
};

export class Preferences {
  lastRead = $state<Record<string, number>>({});
  lastActivity = $state<Record<string, string>>({});
  muted = $state<string[]>([]);
  /** The do-not-disturb status chosen here (Session.setPresence), restored at the next visit. */
  doNotDisturb = $state(false);
  notifications = $state(false);

  constructor(private readonly userId: string) {
    const stored = read(this.storageKey);
    this.lastRead = stored.lastRead;
    this.lastActivity = stored.lastActivity;
    this.muted = stored.muted;
    this.doNotDisturb = stored.doNotDisturb;
    this.notifications = stored.notifications;
  }

  isMuted(roomId: string): boolean {
    return this.muted.includes(roomId);
  }

  setMuted(roomId: string, muted: boolean): void {
    const others = this.muted.filter((id) => id !== roomId);
    this.muted = muted ? [...others, roomId] : others;
    this.save();
  }

  setDoNotDisturb(on: boolean): void {
    this.doNotDisturb = on;
    this.save();
  }

  setNotifications(on: boolean): void {
    this.notifications = on;
    this.save();
  }

  markRead(roomId: string, seq: number): void {
    if ((this.lastRead[roomId] ?? 0) >= seq) return;
    this.lastRead[roomId] = seq;
    this.save();
  }

  noteActivity(roomId: string, at: string): void {
    const previous = this.lastActivity[roomId];
    if (previous !== undefined && previous >= at) return;
    this.lastActivity[roomId] = at;
    this.save();
  }

  private get storageKey(): string {
    return `parley:preferences:${this.userId}`;
  }

  private save(): void {
    const value: Stored = {
      lastRead: $state.snapshot(this.lastRead),
      lastActivity: $state.snapshot(this.lastActivity),
      muted: $state.snapshot(this.muted),
      doNotDisturb: this.doNotDisturb,
      notifications: this.notifications,
    };
    try {
      localStorage.setItem(this.storageKey, JSON.stringify(value));
    } catch {
      // Storage full or disabled: the choices last for this visit only.
    }
  }
}

function read(key: string): Stored {
  try {
    const raw = localStorage.getItem(key);
    if (raw === null) return structuredClone(EMPTY);
    const parsed = JSON.parse(raw) as Partial<Stored>;
    return {
      lastRead: isRecord(parsed.lastRead) ? (parsed.lastRead as Record<string, number>) : {},
      lastActivity: isRecord(parsed.lastActivity)
        ? (parsed.lastActivity as Record<string, string>)
        : {},
      muted: Array.isArray(parsed.muted) ? parsed.muted.filter((x) => typeof x === 'string') : [],
      doNotDisturb: parsed.doNotDisturb === true,
      notifications: parsed.notifications === true,
    };
  } catch {
    return structuredClone(EMPTY);
  }
}

function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
