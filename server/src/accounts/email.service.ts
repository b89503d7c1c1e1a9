import { EMAIL_RULES, normalizeEmail, type EmailStatus } from '@parley/wire';
import type { FastifyBaseLogger } from 'fastify';
import { isUniqueViolation, type Db } from '../db/database';
import { parleyError } from '../errors';
import type { Counters } from '../limits/counters';
import type { Mail, Mailer } from '../mail/mailer';
import { passwordResetMail, verificationMail } from '../mail/messages';
import * as repo from './email.repository';
import { issueMailToken, spendMailToken } from './mail-token';

export interface EmailServiceDeps {
  db: Db;
  mailer: Mailer;
  counters: Counters;
  mailPerAccountPerHour: number;
  publicUrl: string;
  log: FastifyBaseLogger;
}

const HOUR_MS = 3600_000;

/**
 * An account's email address: setting it (unverified), mailing the verification link, and
 * verifying it. Also the one place that mails an account, under a per-account budget, so no
 * request, however repeated, floods someone's mailbox.
 */
export function createEmailService(deps: EmailServiceDeps) {
  const { db, mailer, publicUrl } = deps;

  /** False when the account had its mails for this hour. */
  async function withinBudget(userId: string): Promise<boolean> {
    const tally = await deps.counters.add(`mail:${userId}`, Date.now(), HOUR_MS);
    return tally.count <= deps.mailPerAccountPerHour;
  }

  async function send(mail: Mail): Promise<void> {
    try {
      await mailer.send(mail);
    } catch (error) {
      deps.log.error({ err: error }, 'sending mail failed');
      throw parleyError('MAIL_NOT_SENT', undefined, error);
    }
  }

  async function mailVerification(user: { id: string; username: string }, address: string) {
    if (!(await withinBudget(user.id))) {
      throw parleyError('RATE_LIMITED', 'Too many mails to this account; try again in an hour');
    }
    // The newest link is the only one that works.
    await repo.voidMailTokens(db, user.id, 'verify');
    const token = await issueMailToken(
      db,
      user.id,
      'verify',
      address,
      EMAIL_RULES.verifyTtlHours * HOUR_MS,
    );
    await send(verificationMail(address, user.username, publicUrl, token));
  }

  const service = {
    /** The canonical address, or throws EMAIL_INVALID. */
    parse(input: string): string {
      const address = normalizeEmail(input);
      if (address === undefined) throw parleyError('EMAIL_INVALID');
      return address;
    },

    async status(userId: string): Promise<EmailStatus> {
      const row = await repo.findEmail(db, userId);
      return { address: row?.address ?? null, verified: row?.verified_at != null };
    },

    /**
     * Sets the address (unverified until its link is opened) and mails the link. Setting the
     * address it already has, verified, changes nothing. Whether another account verified the
     * address is not told here (that would tell anyone whose address is registered); the link's
     * opener, who owns the mailbox, learns it.
     */
    async setAddress(user: { id: string; username: string }, input: string): Promise<EmailStatus> {
      const address = service.parse(input);
      const current = await repo.findEmail(db, user.id);
      if (current?.address === address && current.verified_at !== null) {
        return { address, verified: true };
      }
      await repo.putEmail(db, user.id, address);
      await mailVerification(user, address);
      return { address, verified: false };
    },

    /** At sign-up the account exists already: a mail that fails is logged, and can be resent. */
    async addAtSignUp(user: { id: string; username: string }, address: string): Promise<void> {
      await repo.putEmail(db, user.id, address);
      await mailVerification(user, address).catch((error: unknown) => {
        deps.log.warn({ err: error }, 'verification mail at sign-up not sent');
      });
    },

    async resendVerification(user: { id: string; username: string }): Promise<void> {
      const current = await repo.findEmail(db, user.id);
      if (current === undefined) throw parleyError('EMAIL_NOT_SET');
      if (current.verified_at !== null) throw parleyError('EMAIL_ALREADY_VERIFIED');
      await mailVerification(user, current.address);
    },

    /** Opens a verification link. Needs no session: holding the mailed token is the proof. */
    async verify(token: string): Promise<EmailStatus> {
      try {
        return await db.transaction().execute(async (trx) => {
          const row = await spendMailToken(trx, token, 'verify');
          const address = row.address ?? '';
          if (!(await repo.markVerified(trx, row.user_id, address))) {
            throw parleyError('MAIL_TOKEN_INVALID', 'The link confirms an address since replaced');
          }
          return { address, verified: true };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw parleyError('EMAIL_TAKEN');
        throw error;
      }
    },

    /**
     * Mails a reset link when the account has a verified address and mail budget left; else
     * nothing, silently (the caller answers the same either way).
     */
    async mailPasswordReset(user: { id: string; username: string; address: string }) {
      if (!(await withinBudget(user.id))) return;
      await repo.voidMailTokens(db, user.id, 'reset');
      const token = await issueMailToken(
        db,
        user.id,
        'reset',
        null,
        EMAIL_RULES.resetTtlMinutes * 60_000,
      );
      await send(passwordResetMail(user.address, user.username, publicUrl, token));
    },
  };
  return service;
}

export type EmailService = ReturnType<typeof createEmailService>;
