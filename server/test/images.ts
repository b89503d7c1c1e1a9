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
  'image/jpeg': Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex'),
  'image/webp': Buffer.from(
    '524946461a000000574542505650384c0d0000002f0000001007101111888808',
    'hex',
  ),
} as const;
