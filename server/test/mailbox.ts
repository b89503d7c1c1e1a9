// A real SMTP server in the test process (smtp-server, the server half of nodemailer's project):
// the app under test sends to it over TCP exactly as it would to a relay, and a test reads what
// arrived, parsed by mailparser.
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  /** The raw message as it came over the wire. */
  raw: string;
}

export interface Mailbox {
  /** For the app's SMTP_URL. */
  url: string;
  received: ReceivedMail[];
  /** The next mail to `to` not yet taken by `next`; rejects after `timeoutMs`. */
  next(to: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** Resolves if no mail to `to` arrives within `ms` (and nothing unread is waiting). */
  nothingFor(to: string, ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const received: ReceivedMail[] = [];
  const taken = new Set<ReceivedMail>();
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
            received.push({
              to: to?.value[0]?.address ?? '',
              from: parsed.from?.text ?? '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              raw,
            });
            for (const wake of waiters) wake();
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  const unread = (to: string) =>
    received.find((mail) => !taken.has(mail) && mail.to.toLowerCase() === to.toLowerCase());

  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    next(to, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const mail = unread(to);
          if (mail === undefined) return;
          taken.add(mail);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(mail);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async nothingFor(to, ms) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      const mail = unread(to);
      if (mail !== undefined) throw new Error(`unexpected mail to ${to}: ${mail.subject}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The token of the first Parley link of that page (…/#/<page>?token=…) in a mail. */
export function linkToken(mail: ReceivedMail, page: 'verify-email' | 'reset-password'): string {
  const match = new RegExp(`/#/${page}\\?token=([A-Za-z0-9_-]{43})`).exec(mail.text);
  if (match?.[1] === undefined) throw new Error(`no ${page} link in: ${mail.text}`);
  return match[1];
}

/** The whole link of that kind, as a person would click it. */
export function link(mail: ReceivedMail, page: 'verify-email' | 'reset-password'): URL {
  const match = new RegExp(`(https?://\\S+/#/${page}\\?token=[A-Za-z0-9_-]{43})`).exec(mail.text);
  if (match?.[1] === undefined) throw new Error(`no ${page} link in: ${mail.text}`);
  return new URL(match[1]);
}
