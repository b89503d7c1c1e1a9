import { sql, type Kysely } from 'kysely';

/**
 * `commit_messages`: a batch of messages committed in one call, so that a commit costs one round
 * trip to the database instead of one per statement plus BEGIN and COMMIT. Under load every
 * message waits for the commit of the batch before it, so the commit's latency is the relay's.
 *
 * The arguments are parallel arrays, one element per message in arrival order; `p_recent` holds
 * the sequence number under which the process remembers a message of an ephemeral room (null if
 * it does not). The result has one row per message, in the same order (`o_ord`):
 * - `stored`: a new sequence number (`o_ephemeral`: taken but nothing stored);
 * - `duplicate`: the sequence number the same sender's message id already has;
 * - `refused`, with `o_code` ROOM_NOT_FOUND, NOT_A_MEMBER or MESSAGE_INVALID (the id is taken by
 *   another sender's message).
 *
 * The rooms' rows are locked first, in id order, so two batches never deadlock and every commit
 * to a room happens in one order across all server processes: a sequence number is taken only
 * after every smaller one of the room is committed, and a retry of a message committed by
 * another process is seen as a duplicate. Membership is read under the lock that a removal takes,
 * so nothing is stored for someone after their removal committed.
 *
 * The batch is read with two statements and written with two, whatever its size; what the loop
 * needs of each message is laid out in arrays by its place in the batch.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function commit_messages(
      p_rooms text[], p_senders text[], p_ids text[], p_envelopes bytea[], p_recent bigint[])
    returns table (
      o_ord int, o_status text, o_seq bigint, o_sent_at timestamptz, o_ephemeral boolean,
      o_code text)
    language plpgsql
    -- Plan each statement for the batch and tables at hand. A plan cached while the tables were
    -- small (a seq scan of messages) would otherwise stay, and cost more with every row stored,
    -- wherever statistics are not refreshed (PGlite has no autovacuum).
    set plan_cache_mode = force_custom_plan
    as $$
    declare
      n int := coalesce(array_length(p_rooms, 1), 0);
      stamp timestamptz := now();
      -- The batch's rooms that exist, locked, in id order; their heads advance as the loop stores.
      room_ids text[];
      heads bigint[];
      room_ephemeral boolean[];
      touched boolean[];
      -- Per message, element i for message i: its room's place in room_ids, whether its sender
      -- is a member, the message stored before this batch under its id, and the message before
      -- it in this batch with the same id. Read in one statement with index lookups and hash
      -- joins, so that nothing in the loop searches the batch (which grew as its square).
      room_of bigint[];
      is_member boolean[];
      earlier_seqs bigint[];
      earlier_senders text[];
      earlier_sent timestamptz[];
      previous bigint[];
      -- The outcome of each message. Filled to n elements up front: assigning an element of an
      -- empty array would start the array at that subscript.
      statuses text[] := array_fill(null::text, array[n]);
      seqs bigint[] := array_fill(null::bigint, array[n]);
      sent timestamptz[] := array_fill(null::timestamptz, array[n]);
      ephemerals boolean[] := array_fill(null::boolean, array[n]);
      codes text[] := array_fill(null::text, array[n]);
      i int;
      r int;
      t int;
    begin
      select coalesce(array_agg(id order by id), '{}'),
             coalesce(array_agg(head_seq order by id), '{}'),
             coalesce(array_agg(ephemeral order by id), '{}')
        into room_ids, heads, room_ephemeral
        from (select id, head_seq, ephemeral from rooms
              where id = any(p_rooms) order by id for update) as locked;
      touched := array_fill(false, array[greatest(array_length(room_ids, 1), 0)]);

      select array_agg(l.pos order by k.ord),
             array_agg(m.user_id is not null order by k.ord),
             array_agg(e.seq order by k.ord),
             array_agg(e.sender_id order by k.ord),
             array_agg(e.sent_at order by k.ord),
             array_agg(k.prev order by k.ord)
        into room_of, is_member, earlier_seqs, earlier_senders, earlier_sent, previous
        from (select u.room, u.sender, u.id, u.ord,
                     lag(u.ord) over (partition by u.room, u.id order by u.ord) as prev
              from unnest(p_rooms, p_senders, p_ids) with ordinality as u(room, sender, id, ord)
             ) as k
        left join unnest(room_ids) with ordinality as l(id, pos) on l.id = k.room
        left join room_members m on m.room_id = k.room and m.user_id = k.sender
        left join messages e on e.room_id = k.room and e.message_id = k.id;

      for i in 1 .. n loop
        statuses[i] := 'refused';
        r := room_of[i];
        if r is null then
          codes[i] := 'ROOM_NOT_FOUND';
          continue;
        end if;
        if not is_member[i] then
          codes[i] := 'NOT_A_MEMBER';
          continue;
        end if;
        if earlier_seqs[i] is not null then
          if earlier_senders[i] = p_senders[i] then
            statuses[i] := 'duplicate';
            seqs[i] := earlier_seqs[i];
            sent[i] := earlier_sent[i];
          else
            codes[i] := 'MESSAGE_INVALID';
          end if;
          continue;
        end if;
        -- The same id stored (or, in an ephemeral room, numbered) earlier in this batch: at most
        -- one message per id is, so walk back to it past the refused ones.
        t := previous[i];
        while t is not null and statuses[t] <> 'stored' loop
          t := previous[t];
        end loop;
        if t is not null then
          if p_senders[t] = p_senders[i] then
            statuses[i] := 'duplicate';
            seqs[i] := seqs[t];
            sent[i] := stamp;
          else
            codes[i] := 'MESSAGE_INVALID';
          end if;
          continue;
        end if;
        if room_ephemeral[r] and p_recent[i] is not null then
          statuses[i] := 'duplicate';
          seqs[i] := p_recent[i];
          sent[i] := stamp;
          continue;
        end if;
        heads[r] := heads[r] + 1;
        touched[r] := true;
        statuses[i] := 'stored';
        seqs[i] := heads[r];
        sent[i] := stamp;
        ephemerals[i] := room_ephemeral[r];
      end loop;

      insert into messages (room_id, seq, message_id, sender_id, envelope, sent_at)
        select v.room_id, v.seq, v.message_id, v.sender_id, v.envelope, stamp
        from unnest(p_rooms, seqs, p_ids, p_senders, p_envelopes, statuses, ephemerals)
          as v(room_id, seq, message_id, sender_id, envelope, status, ephemeral)
        where v.status = 'stored' and not v.ephemeral;
      update rooms set head_seq = v.head, last_activity_at = now()
        from unnest(room_ids, heads, touched) as v(id, head, changed)
        where rooms.id = v.id and v.changed;

      return query
        select v.ord::int, v.status, v.seq, v.sent, v.ephemeral, v.code
        from unnest(statuses, seqs, sent, ephemerals, codes)
          with ordinality as v(status, seq, sent, ephemeral, code, ord)
        order by v.ord;
    end;
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists commit_messages(text[], text[], text[], bytea[], bigint[])`.execute(
    db,
  );
}
