import fp from 'fastify-plugin';
import { createEmailService, type EmailService } from './email.service';

declare module 'fastify' {
  interface FastifyInstance {
    /** Accounts' email addresses and the mails sent to them (sign-up uses it too). */
    emails: EmailService;
  }
}

export const emailPlugin = fp(
  async (app) => {
    app.decorate(
      'emails',
      createEmailService({
        db: app.db,
        mailer: app.mailer,
        counters: app.counters,
        mailPerAccountPerHour: app.config.limits.mailPerAccountPerHour,
        publicUrl: app.config.mail.publicUrl,
        log: app.log,
      }),
    );
  },
  { name: 'parley-emails', fastify: '5.x', dependencies: ['parley-mail', 'parley-rate-limit'] },
);
