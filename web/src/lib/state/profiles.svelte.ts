// Other people's public profiles (display name, status message, picture), asked of the server
// once per person per page load, the first time the app shows them. Profiles carry no change
// signal, so a person's later edits show after a reload, or when a directory search lists them.
import type { Client, Profile } from '@parley/client';
import { SvelteMap } from 'svelte/reactivity';

export interface KnownProfile {
  displayName: string | null;
  statusMessage: string | null;
  /** A blob: URL of the person's picture (the page's CSP allows blob: images), once loaded. */
  picture: string | undefined;
}

export class Profiles {
  private readonly known = new SvelteMap<string, KnownProfile>();
  /**
   * People asked for already (or being asked for), so each is fetched once. Not reactive on
   * purpose: of() adds to it while a view renders, where changing reactive state is an error.
   */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly asked = new Set<string>();
  private closed = false;

  constructor(private readonly client: Client) {}

  /**
   * What is known of a person; asks the server the first time. Safe to call while rendering:
   * the answer lands later, outside the render.
   */
  of(userId: string): KnownProfile | undefined {
    if (!this.asked.has(userId)) {
      this.asked.add(userId);
      queueMicrotask(() => void this.refresh(userId));
    }
    return this.known.get(userId);
  }

  /** Asks the server again (after this account changed its own profile, say). */
  async refresh(userId: string): Promise<void> {
    this.asked.add(userId);
    try {
      await this.learn(await this.client.getProfile(userId), { reloadPicture: true });
    } catch {
      // Unknown for now: names fall back to the username, avatars to initials.
    }
  }

  /**
   * Takes a profile the server sent for another reason (a directory search): fresher than the
   * cached one. The picture is fetched when the person has one and none is loaded yet.
   */
  async learn(profile: Profile, options: { reloadPicture?: boolean } = {}): Promise<void> {
    this.asked.add(profile.userId);
    const earlier = this.known.get(profile.userId);
    const keep = profile.hasAvatar && options.reloadPicture !== true ? earlier?.picture : undefined;
    this.set(profile.userId, {
      displayName: profile.displayName,
      statusMessage: profile.statusMessage,
      picture: keep,
    });
    if (!profile.hasAvatar || keep !== undefined) return;
    const image = await this.client.avatar(profile.userId).catch(() => undefined);
    if (image === undefined || this.closed) return;
    const current = this.known.get(profile.userId);
    if (current === undefined) return;
    const picture = URL.createObjectURL(
      new Blob([image.data as Uint8Array<ArrayBuffer>], { type: image.mediaType }),
    );
    this.set(profile.userId, { ...current, picture });
  }

  /** Lets go of every picture (at sign-out). */
  close(): void {
    this.closed = true;
    for (const profile of this.known.values()) {
      if (profile.picture !== undefined) URL.revokeObjectURL(profile.picture);
    }
    this.known.clear();
  }

  private set(userId: string, profile: KnownProfile): void {
    const earlier = this.known.get(userId)?.picture;
    if (earlier !== undefined && earlier !== profile.picture) URL.revokeObjectURL(earlier);
    this.known.set(userId, profile);
  }
}
