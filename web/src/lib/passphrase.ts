// A suggested backup passphrase: six words drawn uniformly from BIP-39's 2048-word English list
// (66 bits), with crypto.getRandomValues. 2048 is a power of two, so masking 11 bits is unbiased.
import { wordlist } from '@scure/bip39/wordlists/english.js';

export const SUGGESTED_WORDS = 6;

export function suggestPassphrase(words = SUGGESTED_WORDS): string {
  const random = new Uint16Array(words);
  crypto.getRandomValues(random);
  return [...random].map((value) => wordlist[value & 0x7ff]).join(' ');
}
