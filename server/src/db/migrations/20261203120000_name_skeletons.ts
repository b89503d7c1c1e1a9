/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run over the untyped database */
import { sql, type Kysely } from 'kysely';
import { nameSkeleton } from '../../profiles/names';

/**
 * name_skeletons: what each username and display name looks like (profiles/names.ts), unique, so
 * that no user can take a name another could be mistaken for. Existing names are entered; of
 * existing look-alikes the first one entered keeps its skeleton.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('name_skeletons')
    .addColumn('skeleton', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('source', 'text', (c) =>
      c.notNull().check(sql`source in ('username', 'display_name')`),
    )
    .execute();
  await db.schema
    .createIndex('name_skeletons_by_user')
    .on('name_skeletons')
    .column('user_id')
    .execute();

  const users: { id: string; username: string; display_name: string | null }[] = await db
    .selectFrom('users')
    .leftJoin('profiles', 'profiles.user_id', 'users.id')
    .select(['users.id', 'users.username', 'profiles.display_name'])
    .orderBy('users.created_at')
    .execute();
  const rows = users.flatMap((user) => {
    const username = nameSkeleton(user.username);
    const display = user.display_name === null ? undefined : nameSkeleton(user.display_name);
    return [
      { skeleton: username, user_id: user.id, source: 'username' },
      ...(display === undefined || display === username
        ? []
        : [{ skeleton: display, user_id: user.id, source: 'display_name' }]),
    ];
  });
  for (let i = 0; i < rows.length; i += 1000) {
    await db
      .insertInto('name_skeletons')
      .values(rows.slice(i, i + 1000))
      .onConflict((oc) => oc.column('skeleton').doNothing())
      .execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('name_skeletons').execute();
}
