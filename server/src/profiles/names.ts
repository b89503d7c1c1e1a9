import unhomoglyph from 'unhomoglyph';
import { parleyError } from '../errors';

/**
 * What a name looks like, for telling whether two names could be taken for each other: the
 * confusable "skeleton" of Unicode TR39 (§4), from the Unicode confusables table as packaged by
 * unhomoglyph, over the lower-case form. "a1ice", "аlice" (Cyrillic а) and "ＡＬＩＣＥ" all have
 * the skeleton of "alice"; "rn" that of "m".
 */
export function nameSkeleton(name: string): string {
  const mapped = unhomoglyph(name.normalize('NFD').toLowerCase());
  return mapped.toLowerCase().normalize('NFD');
}

/**
 * A display name as stored and shown: without bidirectional overrides and isolates (which turn
 * "evil‮moc.elgoog" around), zero-width and other invisible format characters, control
 * characters, and line breaks; runs of spaces made one; in NFC. VALIDATION_FAILED when nothing
 * visible is left.
 */
export function cleanDisplayName(input: string): string {
  const cleaned = input
    .replace(INVISIBLE, '')
    .replace(/[\p{Z}\t]+/gu, ' ')
    .trim()
    .normalize('NFC');
  if (cleaned === '') {
    throw parleyError('VALIDATION_FAILED', 'displayName: has no visible characters');
  }
  return cleaned;
}

// Controls (Cc), format characters (Cf: bidi marks, overrides and isolates, zero-width space and
// joiners, word joiner, BOM, tags), the combining grapheme joiner and the Hangul fillers, which
// render as nothing.
const INVISIBLE = /[\p{Cc}\p{Cf}\u034f\u115f\u1160\u3164\uffa0]/gu;
