import { largestAttachment } from '@parley/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadProgress } from '../src/attachments';
import { expectClientCode } from './helpers';
import { device, shutDown, startServer, type Device, type LiveServer } from './live';

let server: LiveServer;
let bob: Device;
let roomId: string;

beforeAll(async () => {
  server = await startServer();
  bob = await device(server, 'bob');
  roomId = (await bob.parts.membership.create('group', { name: 'files' })).roomId;
});

afterAll(async () => {
  await shutDown(bob);
  await server.close();
});

const file = (text: string, name = 'note.txt') => ({
  data: new TextEncoder().encode(text),
  name,
  mediaType: 'text/plain',
});

describe('Attachments', () => {
  it('uploads files encrypted and downloads them back, reporting each stage', async () => {
    const progress: UploadProgress[] = [];
    const files = [file('first file'), file('second, longer file', 'b.txt')];
    const sent = await bob.parts.attachments.upload(roomId, files, (p) => progress.push(p));
    expect(sent.map((d) => [d.name, d.mediaType, d.size])).toEqual([
      ['note.txt', 'text/plain', 10],
      ['b.txt', 'text/plain', 19],
    ]);
    expect(progress.map((p) => `${p.file}:${p.stage}:${p.doneBytes}`)).toEqual([
      '0:encrypting:0',
      '0:uploading:0',
      '1:encrypting:10',
      '1:uploading:10',
      '2:sent:29',
    ]);
    for (const [index, descriptor] of sent.entries()) {
      expect(await bob.parts.attachments.download(descriptor)).toEqual(files[index]!.data);
    }
  });

  it('refuses a blob other than the one described (ATTACHMENT_HASH_MISMATCH)', async () => {
    const [a, b] = await bob.parts.attachments.upload(roomId, [file('aaaa'), file('bbbb')]);
    await expectClientCode(
      bob.parts.attachments.download({ ...a!, blobId: b!.blobId }),
      'ATTACHMENT_HASH_MISMATCH',
    );
  });

  it("gives the largest sendable file: the server's largest blob less what encryption adds", async () => {
    const { maxBlobBytes } = await bob.parts.ctx.api.attachmentLimits();
    const limit = await bob.parts.attachments.limit();
    expect(limit).toBe(largestAttachment(maxBlobBytes));
    expect(limit).toBeLessThan(maxBlobBytes);
  });
});
