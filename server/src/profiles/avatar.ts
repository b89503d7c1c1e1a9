import { imageSize } from 'image-size';

/**
 * Recognises an avatar image by its magic bytes: a declared content type is not evidence, and the
 * bytes are served back to other users' browsers.
 */
export type AvatarType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';

export function sniffImageType(bytes: Uint8Array): AvatarType | undefined {
  if (startsWith(bytes, PNG)) return 'image/png';
  if (startsWith(bytes, JPEG)) return 'image/jpeg';
  if (startsWith(bytes, GIF87A) || startsWith(bytes, GIF89A)) return 'image/gif';
  if (startsWith(bytes, RIFF) && startsWith(bytes.subarray(8), WEBP)) return 'image/webp';
  return undefined;
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const GIF87A = [...'GIF87a'].map((c) => c.charCodeAt(0));
const GIF89A = [...'GIF89a'].map((c) => c.charCodeAt(0));
const RIFF = [...'RIFF'].map((c) => c.charCodeAt(0));
const WEBP = [...'WEBP'].map((c) => c.charCodeAt(0));

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/**
 * The width and height an image's header declares, or undefined when they cannot be read. An
 * image a few kilobytes long can declare millions of pixels, which every viewer's browser would
 * decode, so avatars are bounded in pixels as well as bytes.
 */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  try {
    const { width, height } = imageSize(bytes);
    return width > 0 && height > 0 ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}
