import {
  USERNAME_RULES,
  type Me,
  type PublicProfile,
  type SearchPeopleResponse,
  type UpdateProfileRequest,
} from '@parley/wire';
import type { Db } from '../db/database';
import { parleyError } from '../errors';
import { imageDimensions, sniffImageType, type AvatarType } from './avatar';
import { cleanDisplayName, nameSkeleton } from './names';
import * as repo from './profile.repository';

export interface ProfileServiceOptions {
  /** Largest avatar width and height, in pixels. */
  avatarPixels: number;
}

export function createProfileService(db: Db, options: ProfileServiceOptions) {
  return {
    async me(userId: string): Promise<Me> {
      const row = await repo.findProfileById(db, userId);
      if (row === undefined) throw parleyError('USER_NOT_FOUND');
      return { ...toPublicProfile(row), createdAt: row.created_at.toISOString() };
    },

    async byId(userId: string): Promise<PublicProfile> {
      const row = await repo.findProfileById(db, userId);
      if (row === undefined) throw parleyError('USER_NOT_FOUND');
      return toPublicProfile(row);
    },

    async byUsername(username: string): Promise<PublicProfile> {
      const row = await repo.findProfileByUsername(db, username.toLowerCase());
      if (row === undefined) throw parleyError('USER_NOT_FOUND');
      return toPublicProfile(row);
    },

    /**
     * A display name is cleaned (names.ts) and must not look like another user's username or
     * display name (NAME_CONFUSABLE); looking like one's own username is fine.
     */
    async update(userId: string, changes: UpdateProfileRequest): Promise<Me> {
      const displayName =
        changes.displayName == null ? changes.displayName : cleanDisplayName(changes.displayName);
      await db.transaction().execute(async (trx) => {
        if (displayName !== undefined) {
          await repo.releaseDisplayNameSkeleton(trx, userId);
          if (
            displayName !== null &&
            !(await repo.claimNameSkeleton(trx, userId, 'display_name', nameSkeleton(displayName)))
          ) {
            throw parleyError('NAME_CONFUSABLE', 'The display name looks like another user’s name');
          }
        }
        await repo.updateProfile(trx, userId, {
          ...(displayName === undefined ? {} : { display_name: displayName }),
          ...(changes.statusMessage === undefined ? {} : { status_message: changes.statusMessage }),
        });
      });
      return this.me(userId);
    },

    /** Stores an avatar whose bytes are the declared image type; AVATAR_INVALID otherwise. */
    async setAvatar(userId: string, bytes: Uint8Array, declaredType: string): Promise<void> {
      const type = sniffImageType(bytes);
      if (type === undefined) throw parleyError('AVATAR_INVALID');
      if (type !== declaredType) {
        throw parleyError('AVATAR_INVALID', `The image is ${type}, not ${declaredType}`);
      }
      const size = imageDimensions(bytes);
      if (size === undefined) throw parleyError('AVATAR_INVALID', 'The image size cannot be read');
      const max = options.avatarPixels;
      if (size.width > max || size.height > max) {
        throw parleyError(
          'AVATAR_TOO_LARGE',
          `The avatar is ${size.width}×${size.height} pixels; at most ${max}×${max}`,
        );
      }
      await repo.setAvatar(db, userId, { bytes, type });
    },

    /** People search by username or display-name prefix, a page at a time. */
    async search(query: {
      q: string;
      cursor?: string;
      limit?: number;
    }): Promise<SearchPeopleResponse> {
      const limit = query.limit ?? 20;
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      // One row more than asked tells whether another page exists.
      const rows = await repo.searchProfiles(db, query.q.toLowerCase(), after, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        users: page.map(toPublicProfile),
        ...(rows.length > limit && last !== undefined
          ? { cursor: Buffer.from(last.username).toString('base64url') }
          : {}),
      };
    },

    async removeAvatar(userId: string): Promise<void> {
      await repo.setAvatar(db, userId, null);
    },

    async avatar(
      userId: string,
    ): Promise<{ bytes: Uint8Array; type: AvatarType; updatedAt: Date }> {
      const row = await repo.findAvatar(db, userId);
      if (row?.avatar == null) throw parleyError('AVATAR_NOT_FOUND');
      return { bytes: row.avatar, type: row.avatar_type as AvatarType, updatedAt: row.updated_at };
    },
  };
}

export function toPublicProfile(row: repo.ProfileRow): PublicProfile {
  return {
    userId: row.id,
    username: row.username,
    displayName: row.display_name,
    statusMessage: row.status_message,
    hasAvatar: row.has_avatar,
  };
}

/**
 * A people-search cursor is the base64url of the last username of a page; anything else (a NUL
 * among it would even fail in PostgreSQL) is refused as a cursor this server never issued.
 */
const USERNAME_PATTERN = new RegExp(USERNAME_RULES.pattern);

function decodeCursor(cursor: string): string {
  const username = Buffer.from(cursor, 'base64url').toString();
  if (!USERNAME_PATTERN.test(username)) {
    throw parleyError('VALIDATION_FAILED', 'cursor: not a cursor this server issued');
  }
  return username;
}
