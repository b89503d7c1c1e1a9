import fp from 'fastify-plugin';
import { createMailer, type Mailer } from './mailer';

declare module 'fastify' {
  interface FastifyInstance {
    /** Sends mail: to SMTP_URL, or as .eml files into the outbox folder. */
    mailer: Mailer;
  }
}

export const mailPlugin = fp(
  async (app) => {
    const mailer = createMailer(app.config.mail);
    app.decorate('mailer', mailer);
    app.addHook('onReady', async () => {
      app.log.info(
        { mail: mailer.destination, links: app.config.mail.publicUrl },
        app.config.mail.smtpUrl === undefined
          ? `mail is written to ${mailer.destination} (set SMTP_URL to send it)`
          : `mail is sent through ${mailer.destination}`,
      );
    });
    app.addHook('onClose', async () => mailer.close());
  },
  { name: 'parley-mail', fastify: '5.x' },
);
