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
 * Arrays stand in for maps (`array_position` over a batch's few hundred keys): the batch is read
 * with four statements and written with two, whatever its size.
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
      -- "room:id" of each message of the batch.
      keys text[];
      -- The batch's rooms that exist, locked, in id order; their heads advance as the loop stores.
      room_ids text[];
      heads bigint[];
      room_ephemeral boolean[];
      touched boolean[];
      -- "room:sender" of the senders who are members.
      member_keys text[];
      -- "room:id" of messages stored before this batch, with their seq, sender and time.
      earlier_keys text[];
      earlier_seqs bigint[];
      earlier_senders text[];
      earlier_sent timestamptz[];
      -- The outcome of each message. Filled to n elements up front: assigning an element of an
      -- empty array would start the array at that subscript, and assigning in place is what keeps
      -- the loop linear (appending copies the array).
      statuses text[] := array_fill(null::text, array[n]);
      seqs bigint[] := array_fill(null::bigint, array[n]);
      sent timestamptz[] := array_fill(null::timestamptz, array[n]);
      ephemerals boolean[] := array_fill(null::boolean, array[n]);
      codes text[] := array_fill(null::text, array[n]);
      i int;
      r int;
      e int;
      t int;
    begin
      keys := array(select k.room || ':' || k.id
                    from unnest(p_rooms, p_ids) with ordinality as k(room, id, ord) order by k.ord);

      select coalesce(array_agg(id order by id), '{}'),
             coalesce(array_agg(head_seq order by id), '{}'),
             coalesce(array_agg(ephemeral order by id), '{}')
        into room_ids, heads, room_ephemeral
        from (select id, head_seq, ephemeral from rooms
              where id = any(p_rooms) order by id for update) as locked;
      touched := array_fill(false, array[greatest(array_length(room_ids, 1), 0)]);

      select coalesce(array_agg(m.room_id || ':' || m.user_id), '{}') into member_keys
        from room_members m
        where (m.room_id, m.user_id) in (select * from unnest(p_rooms, p_senders));

      select coalesce(array_agg(m.room_id || ':' || m.message_id), '{}'),
             coalesce(array_agg(m.seq), '{}'),
             coalesce(array_agg(m.sender_id), '{}'),
             coalesce(array_agg(m.sent_at), '{}')
        into earlier_keys, earlier_seqs, earlier_senders, earlier_sent
        from messages m
        where (m.room_id, m.message_id) in (select * from unnest(p_rooms, p_ids));

      for i in 1 .. n loop
        statuses[i] := 'refused';
        r := array_position(room_ids, p_rooms[i]);
        if r is null then
          codes[i] := 'ROOM_NOT_FOUND';
          continue;
        end if;
        if array_position(member_keys, p_rooms[i] || ':' || p_senders[i]) is null then
          codes[i] := 'NOT_A_MEMBER';
          continue;
        end if;
        e := array_position(earlier_keys, keys[i]);
        if e is not null then
          if earlier_senders[e] = p_senders[i] then
            statuses[i] := 'duplicate';
            seqs[i] := earlier_seqs[e];
            sent[i] := earlier_sent[e];
          else
            codes[i] := 'MESSAGE_INVALID';
          end if;
          continue;
        end if;
        -- The same id stored (or, in an ephemeral room, numbered) earlier in this batch.
        t := array_position(keys, keys[i]);
        while t < i and statuses[t] <> 'stored' loop
          t := array_position(keys, keys[i], t + 1);
        end loop;
        if t < i then
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
