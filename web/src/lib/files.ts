// What the chat shows of a file: its size in words, and how it may be shown inline. The media type
// is the sender's word (it travels inside the encrypted message), so only types a browser renders
// without running anything are shown inline; everything else is offered as a download.

const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);
const INLINE_VIDEOS = new Set(['video/mp4', 'video/webm', 'video/ogg']);
/** Larger images are not fetched by themselves: the reader asks for them. */
export const AUTO_PREVIEW_BYTES = 4 * 1024 * 1024;

export type FileKind = 'image' | 'video' | 'file';

export function fileKind(mediaType: string): FileKind {
  const type = mediaType.toLowerCase();
  if (INLINE_IMAGES.has(type)) return 'image';
  if (INLINE_VIDEOS.has(type)) return 'video';
  return 'file';
}

/** 1023 bytes, 4.2 KB, 10 MB: decimal units, one decimal below ten. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * The type an object URL of the decrypted bytes carries. Downloads are application/octet-stream
 * so that a file claiming to be a page is saved, never opened in the app's origin.
 */
export function blobType(kind: FileKind, mediaType: string): string {
  return kind === 'file' ? 'application/octet-stream' : mediaType.toLowerCase();
}
