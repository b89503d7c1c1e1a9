// Per-account choices that belong to this browser only: muted rooms, do not disturb, browser
// notifications. Read markers and activity are the server's (the same in every browser). No
// message text or key is kept here; localStorage holds only these flags.

interface Stored {
  muted: string[];
  doNotDisturb: boolean;
  notifications: boolean;
}

const EMPTY: Stored = {
  muted: [],
  doNotDisturb: false,
  notifications: false,
};

export class Preferences {
  muted = $state<string[]>([]);
  /** The do-not-disturb status chosen here (Session.setPresence), restored at the next visit. */
  doNotDisturb = $state(false);
  notifications = $state(false);

  constructor(private readonly userId: string) {
    const stored = read(this.storageKey);
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

  private get storageKey(): string {
    return `parley:preferences:${this.userId}`;
  }

  private save(): void {
    const value: Stored = {
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
      muted: Array.isArray(parsed.muted) ? parsed.muted.filter((x) => typeof x === 'string') : [],
      doNotDisturb: parsed.doNotDisturb === true,
      notifications: parsed.notifications === true,
    };
  } catch {
    return structuredClone(EMPTY);
  }
}
