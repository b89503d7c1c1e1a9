import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { MailConfig } from '../config';

export interface Mail {
  to: string;
  subject: string;
  /** Plain text only: no HTML to render, no remote images to track who opened it. */
  text: string;
}

export interface Mailer {
  /** Where mail goes, for the start-up log: the outbox folder or the relay's host. */
  readonly destination: string;
  /** Resolves once the relay accepted the mail (or the file is written). */
  send(mail: Mail): Promise<void>;
  close(): void;
}

/**
 * nodemailer builds every message (headers, encoding, Message-ID). With SMTP_URL it hands it to
 * that relay; without, its stream transport renders the raw RFC 5322 message and it is written
 * to the outbox folder as one .eml file, which any mail program opens.
 */
export function createMailer(config: MailConfig): Mailer {
  if (config.smtpUrl !== undefined) {
    const transport = nodemailer.createTransport(config.smtpUrl);
    const url = new URL(config.smtpUrl);
    return {
      destination: `${url.protocol}//${url.host}`,
      async send(mail) {
        await transport.sendMail({ from: config.from, ...mail });
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  return {
    destination: config.outboxDir,
    async send(mail) {
      const { message } = await transport.sendMail({ from: config.from, ...mail });
      await mkdir(config.outboxDir, { recursive: true });
      // Sortable by time; the random part keeps two mails of one millisecond apart.
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
      await writeFile(join(config.outboxDir, name), message as Buffer, { mode: 0o600 });
    },
    close: () => transport.close(),
  };
}
