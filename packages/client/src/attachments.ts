// Attachments (PROTOCOL.md §8): each file is encrypted on this device under a fresh key and
// uploaded as an opaque blob; its key, hash, size, type and name travel only inside the encrypted
// message. A download is checked against the hash the sender signed before it is decrypted, so a
// blob the server swapped or altered is refused (ATTACHMENT_HASH_MISMATCH).
import {
  decryptAttachment,
  encryptAttachment,
  largestAttachment,
  type AttachmentDescriptor,
} from '@parley/crypto';
import type { ServerApi } from './api';
import { fromCryptoError } from './errors';

/** How far `sendFiles` has got: file `file` of `files` is at `stage`; bytes of whole files done. */
export interface UploadProgress {
  file: number;
  files: number;
  stage: 'encrypting' | 'uploading' | 'sent';
  doneBytes: number;
  totalBytes: number;
}

/** A file to send: encrypted on this device, uploaded as an opaque blob. */
export interface OutgoingFile {
  data: Uint8Array;
  name: string;
  mediaType: string;
}

export class Attachments {
  constructor(private readonly api: ServerApi) {}

  /** Encrypts and uploads each file; the descriptors go into the message that carries them. */
  async upload(
    roomId: string,
    files: OutgoingFile[],
    onProgress?: (progress: UploadProgress) => void,
  ): Promise<AttachmentDescriptor[]> {
    const attachments: AttachmentDescriptor[] = [];
    const totalBytes = files.reduce((sum, file) => sum + file.data.length, 0);
    let doneBytes = 0;
    for (const [index, file] of files.entries()) {
      const report = (stage: UploadProgress['stage']) =>
        onProgress?.({ file: index, files: files.length, stage, doneBytes, totalBytes });
      report('encrypting');
      let sealed;
      try {
        sealed = encryptAttachment(file.data);
      } catch (error) {
        throw fromCryptoError(error, 'sendFiles');
      }
      report('uploading');
      const { blobId } = await this.api.upload(roomId, sealed.blob);
      attachments.push({
        blobId,
        fileKey: sealed.fileKey,
        hash: sealed.hash,
        size: sealed.size,
        mediaType: file.mediaType,
        name: file.name,
      });
      doneBytes += file.data.length;
    }
    onProgress?.({ file: files.length, files: files.length, stage: 'sent', doneBytes, totalBytes });
    return attachments;
  }

  /**
   * The largest file `sendFiles` can send, in bytes: the server's largest blob (its schema checked
   * it is a positive integer) less what encryption adds, so a too-large file is refused up front.
   */
  async limit(): Promise<number> {
    const { maxBlobBytes } = await this.api.attachmentLimits();
    return largestAttachment(maxBlobBytes);
  }

  /**
   * Downloads an attachment of a received message and decrypts it, after checking the blob is the
   * one the sender described (ATTACHMENT_HASH_MISMATCH otherwise: the server swapped or altered it).
   */
  async download(descriptor: AttachmentDescriptor): Promise<Uint8Array> {
    const { data } = await this.api.attachment(descriptor.blobId);
    try {
      return decryptAttachment(data, descriptor.fileKey, descriptor.hash, descriptor.size);
    } catch (error) {
      throw fromCryptoError(error, 'downloadAttachment');
    }
  }
}
