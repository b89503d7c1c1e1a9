import { crc32 } from 'node:zlib';

// The smallest real files of each format (a 1×1 image), so the magic-byte check sees real headers.
export const IMAGES = {
  'image/png': Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082',
    'hex',
  ),
  'image/gif': Buffer.from(
    '47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b',
    'hex',
  ),
  // Encoded by Chromium's canvas (toDataURL, quality 0.1), its ICC profile segment dropped.
  'image/jpeg': Buffer.from(
    'ffd8ffe000104a46494600010100000100010000ffdb00430050373c463c32504641465a55505f78c882786e6e78f5afb991c8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffdb004301555a5a786978eb8282ebffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc00011080001000103012200021101031101ffc4001500010100000000000000000000000000000004ffc40014100100000000000000000000000000000000ffc40014010100000000000000000000000000000000ffc40014110100000000000000000000000000000000ffda000c03010002110311003f00b4007fffd9',
    'hex',
  ),
  'image/webp': Buffer.from(
    '524946461a000000574542505650384c0d0000002f0000001007101111888808',
    'hex',
  ),
} as const;

/**
 * The header of a PNG claiming `width`×`height` pixels: a decoder would allocate for all of them
 * (a decompression bomb needs only a few kilobytes more), so the server must read the size.
 */
export function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const type = Buffer.from('IHDR');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, ihdr])));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(13);
  return Buffer.concat([IMAGES['image/png'].subarray(0, 8), length, type, ihdr, crc]);
}
