import { describe, expect, it } from 'vitest';
import { blobType, fileKind, formatBytes } from '../../src/lib/files';
import { timeLeft } from '../../src/lib/time';

describe('files as the chat shows them', () => {
  it('shows raster images and videos inline, everything else as a download', () => {
    expect(fileKind('image/png')).toBe('image');
    expect(fileKind('IMAGE/JPEG')).toBe('image');
    expect(fileKind('video/webm')).toBe('video');
    // A browser would run scripts in these if they were opened in the app's origin.
    for (const type of ['image/svg+xml', 'text/html', 'application/xhtml+xml', 'application/pdf']) {
      expect(fileKind(type)).toBe('file');
      expect(blobType(fileKind(type), type)).toBe('application/octet-stream');
    }
    expect(blobType('image', 'Image/PNG')).toBe('image/png');
  });

  it('says sizes in decimal units', () => {
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(1000)).toBe('1.0 KB');
    expect(formatBytes(3_600_000)).toBe('3.6 MB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MB');
    expect(formatBytes(2_500_000_000)).toBe('2.5 GB');
  });

  it('says what is left of a room lifetime', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const at = (ms: number) => new Date(now + ms).toISOString();
    expect(timeLeft(at(7 * 86_400_000 - 5000), now)).toBe('6 days left');
    expect(timeLeft(at(86_400_000), now)).toBe('1 day left');
    expect(timeLeft(at(5 * 3_600_000 + 10), now)).toBe('5 hours left');
    expect(timeLeft(at(60_000), now)).toBe('1 minute left');
    expect(timeLeft(at(59_000), now)).toBe('under a minute left');
    expect(timeLeft('not a date', now)).toBe('');
  });
});
