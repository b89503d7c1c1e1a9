import { generateId, toBase64Url, toHex } from '@parley/crypto';
import type { AttachmentUploaded, HistoryPage, ReceiptList } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { expectError } from './accounts';
import { createTestApp } from './helpers';
import { expectUnchanged, expiredToken } from './room-state';
import { createPerson, groupWith, type Person, type TestRoom } from './rooms-fixtures';

let app: ParleyApp;
let alice: Person;
let bob: Person;
let mallory: Person;
let room: TestRoom;
const envelopes: string[] = [];

beforeAll(async () => {
  app = await createTestApp({ config: { limits: { attachmentBytes: 4096 } } });
  [alice, bob, mallory] = [
    await createPerson(app),
    await createPerson(app),
    await createPerson(app),
  ];
  room = await groupWith(app, alice, [bob]);
  for (let i = 1; i <= 12; i++) {
    const { envelope } = room.message(i % 2 === 0 ? bob : alice, `message ${i}`);
    const accepted = await app.realtime.messages.send(
      room.id,
      i % 2 === 0 ? bob.id : alice.id,
      envelope,
    );
    expect(accepted.seq).toBe(i);
    envelopes.push(toBase64Url(envelope));
  }
});
afterAll(async () => {
  await app.close();
});

const history = (person: Person | undefined, query: string) =>
  app.inject({
    method: 'GET',
    url: `/api/rooms/${room.id}/messages${query}`,
    headers: person?.auth ?? {},
  });

describe('GET /api/rooms/:id/messages', () => {
  it('pages backwards from the newest and forwards from a seq, by keyset', async () => {
    const seqs = async (query: string) => {
      const page = (await history(bob, query)).json<HistoryPage>();
      return { seqs: page.messages.map((m) => m.seq), more: page.more, head: page.headSeq };
    };
    expect(await seqs('?limit=5')).toEqual({ seqs: [8, 9, 10, 11, 12], more: true, head: 12 });
    expect(await seqs('?before=8&limit=5')).toEqual({
      seqs: [3, 4, 5, 6, 7],
      more: true,
      head: 12,
    });
    expect(await seqs('?before=3&limit=5')).toEqual({ seqs: [1, 2], more: false, head: 12 });
    expect(await seqs('?after=0&limit=5')).toEqual({ seqs: [1, 2, 3, 4, 5], more: true, head: 12 });
    expect(await seqs('?after=10')).toEqual({ seqs: [11, 12], more: false, head: 12 });
    expect(await seqs('?after=12')).toEqual({ seqs: [], more: false, head: 12 });
    const full = (await history(alice, '')).json<HistoryPage>();
    expect(full.messages.map((m) => m.envelope)).toEqual(envelopes);
  });

  it('refuses bad queries, strangers, missing and expired auth', async () => {
    expectError(await history(bob, '?before=5&after=1'), 400, 'VALIDATION_FAILED');
    expectError(await history(bob, '?limit=0'), 400, 'VALIDATION_FAILED');
    expectError(await history(bob, '?limit=501'), 400, 'VALIDATION_FAILED');
    expectError(await history(bob, '?after=-1'), 400, 'VALIDATION_FAILED');
    expectError(await history(bob, '?after=abc'), 400, 'VALIDATION_FAILED');
    expectError(await history(bob, '?since=1'), 400, 'VALIDATION_FAILED');
    expectError(await history(mallory, ''), 403, 'NOT_A_MEMBER');
    expectError(await history(undefined, ''), 401, 'UNAUTHENTICATED');
    const expired = await app.inject({
      method: 'GET',
      url: `/api/rooms/${room.id}/messages`,
      headers: { authorization: `Bearer ${expiredToken(bob.accessToken)}` },
    });
    expectError(expired, 401, 'TOKEN_EXPIRED');
    const ghost = await app.inject({
      method: 'GET',
      url: `/api/rooms/${toHex(generateId())}/messages`,
      headers: bob.auth,
    });
    expectError(ghost, 404, 'ROOM_NOT_FOUND');
  });
});

describe('receipts over REST', () => {
  const post = (person: Person | undefined, payload: unknown) =>
    app.inject({
      method: 'POST',
      url: `/api/rooms/${room.id}/receipts`,
      headers: person?.auth ?? {},
      payload: payload as object,
    });

  it('moves markers forward, never back and never past the newest message', async () => {
    expect((await post(alice, { delivered: 10, read: 4 })).statusCode).toBe(204);
    expect((await post(alice, { delivered: 2, read: 500 })).statusCode).toBe(204);
    const list = (
      await app.inject({ method: 'GET', url: `/api/rooms/${room.id}/receipts`, headers: bob.auth })
    ).json<ReceiptList>();
    expect(list.receipts.find((r) => r.userId === alice.id)).toEqual({
      userId: alice.id,
      deliveredSeq: 10,
      readSeq: 12,
    });
  });

  it('refuses empty, mistyped or extra fields, and strangers, changing nothing', async () => {
    await expectUnchanged(app, async () => {
      expectError(await post(bob, {}), 400, 'VALIDATION_FAILED');
      expectError(await post(bob, { read: 'all' }), 400, 'VALIDATION_FAILED');
      expectError(await post(bob, { read: 1.5 }), 400, 'VALIDATION_FAILED');
      expectError(await post(bob, { read: 1, seen: 1 }), 400, 'VALIDATION_FAILED');
      expectError(await post(mallory, { read: 1 }), 403, 'NOT_A_MEMBER');
      expectError(await post(undefined, { read: 1 }), 401, 'UNAUTHENTICATED');
      const list = await app.inject({
        method: 'GET',
        url: `/api/rooms/${room.id}/receipts`,
        headers: mallory.auth,
      });
      expectError(list, 403, 'NOT_A_MEMBER');
    });
  });
});

describe('attachments', () => {
  const upload = (
    person: Person | undefined,
    body: Buffer | string,
    type = 'application/octet-stream',
  ) =>
    app.inject({
      method: 'POST',
      url: `/api/rooms/${room.id}/attachments`,
      headers: { ...(person?.auth ?? {}), 'content-type': type },
      payload: body,
    });

  it('tells a signed-in client the largest blob it takes', async () => {
    const limits = await app.inject({
      method: 'GET',
      url: '/api/attachments/limits',
      headers: mallory.auth,
    });
    expect(limits.statusCode, limits.body).toBe(200);
    expect(limits.json()).toEqual({ maxBlobBytes: 4096 });
    expectError(
      await app.inject({ method: 'GET', url: '/api/attachments/limits' }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('stores an opaque blob for members to download', async () => {
    const blob = Buffer.from(crypto.getRandomValues(new Uint8Array(3000)));
    const response = await upload(alice, blob);
    expect(response.statusCode, response.body).toBe(201);
    const { blobId, size } = response.json<AttachmentUploaded>();
    expect(size).toBe(3000);
    const download = await app.inject({
      method: 'GET',
      url: `/api/attachments/${blobId}`,
      headers: bob.auth,
    });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/octet-stream');
    expect(Buffer.compare(download.rawPayload, blob)).toBe(0);
    const stranger = await app.inject({
      method: 'GET',
      url: `/api/attachments/${blobId}`,
      headers: mallory.auth,
    });
    expectError(stranger, 403, 'NOT_A_MEMBER');
  });

  it('refuses oversize blobs, other content types, strangers and unknown ids, changing nothing', async () => {
    await expectUnchanged(app, async () => {
      expectError(await upload(alice, Buffer.alloc(5000)), 413, 'BODY_TOO_LARGE');
      expectError(
        await upload(alice, '{"a":1}', 'application/json'),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expectError(await upload(alice, 'text', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectError(await upload(mallory, Buffer.alloc(10)), 403, 'NOT_A_MEMBER');
      expectError(await upload(undefined, Buffer.alloc(10)), 401, 'UNAUTHENTICATED');
      const missing = await app.inject({
        method: 'GET',
        url: `/api/attachments/${toHex(generateId())}`,
        headers: bob.auth,
      });
      expectError(missing, 404, 'ATTACHMENT_NOT_FOUND');
      const malformed = await app.inject({
        method: 'GET',
        url: '/api/attachments/xyz',
        headers: bob.auth,
      });
      expectError(malformed, 400, 'VALIDATION_FAILED');
    });
  });
});
