/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import type { Kysely } from 'kysely';

/** The attachment quota sums an account's blobs on every upload. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('attachments_by_uploader')
    .on('attachments')
    .column('uploader_id')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('attachments_by_uploader').execute();
}
