import { encryptionKeyPair, generateIdentity, identityKeyPair } from '@parley/crypto';
import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../src/key-store/memory';
import { TrustStore } from '../src/trust';
import { expectClientCode, makeUser, publish } from './helpers';

const now = (): number => 1_700_000_000_000;

function otherIdentity() {
  const seeds = generateIdentity();
  return {
    identity: identityKeyPair(seeds.identitySeed),
    encryption: encryptionKeyPair(seeds.encryptionSeed),
  };
}

describe('TrustStore', () => {
  it('pins on first use, and the pin survives a reload of the key store', async () => {
    const store = new MemoryKeyStore();
    const trust = await TrustStore.load(store, now);
    const bob = makeUser('bob');
    const first = await trust.observe(bob.published);
    expect(first.status).toBe('pinned');
    expect((await trust.observe(bob.published)).status).toBe('unchanged');
    const reloaded = await TrustStore.load(store, now);
    expect(reloaded.get(bob.userId)?.identityKey).toEqual(bob.identity.publicKey);
    expect(reloaded.encryptionKeyFor(bob.userId)).toEqual(bob.encryption.publicKey);
    expect(reloaded.identityKeyOf(Buffer.from(bob.userId, 'hex'))).toEqual(bob.identity.publicKey);
  });

  it('rejects a binding that does not verify, with the crypto code, and pins nothing', async () => {
    const trust = await TrustStore.load(new MemoryKeyStore(), now);
    const bob = makeUser('bob');
    const forged = { ...bob.published, encryptionKey: otherIdentity().encryption.publicKey };
    await expectClientCode(trust.observe(forged), 'IDENTITY_BAD_SIGNATURE');
    await expectClientCode(
      trust.observe({ ...bob.published, identityKey: new Uint8Array(31) }),
      'IDENTITY_MALFORMED',
    );
    expect(trust.get(bob.userId)).toBeUndefined();
  });

  it('accepts a rotated encryption key signed by the pinned identity key, ignores an older one', async () => {
    const trust = await TrustStore.load(new MemoryKeyStore(), now);
    const bob = makeUser('bob');
    await trust.observe(bob.published);
    const rotated = otherIdentity().encryption.publicKey;
    const v2 = publish(bob.userId, 'bob', bob.identity, rotated, 2);
    expect((await trust.observe(v2)).status).toBe('rotated');
    expect(trust.encryptionKeyFor(bob.userId)).toEqual(rotated);
    expect((await trust.observe(bob.published)).status).toBe('stale');
    expect(trust.encryptionKeyFor(bob.userId)).toEqual(rotated);
  });

  it('holds a changed identity key aside and refuses to encrypt to the contact until accepted', async () => {
    const store = new MemoryKeyStore();
    const trust = await TrustStore.load(store, now);
    const bob = makeUser('bob');
    await trust.observe(bob.published);
    const impostor = otherIdentity();
    const swapped = publish(bob.userId, 'bob', impostor.identity, impostor.encryption.publicKey, 1);
    const result = await trust.observe(swapped);
    expect(result.status).toBe('changed');
    // The pin (used to verify bob's signatures) is still bob's real key.
    expect(trust.identityKeyOf(Buffer.from(bob.userId, 'hex'))).toEqual(bob.identity.publicKey);
    await expectClientCode(() => trust.encryptionKeyFor(bob.userId), 'KEY_CHANGE_PENDING');
    // Seen again: still the same pending change, still refused, also after a reload.
    expect((await trust.observe(swapped)).status).toBe('changed');
    const reloaded = await TrustStore.load(store, now);
    await expectClientCode(() => reloaded.encryptionKeyFor(bob.userId), 'KEY_CHANGE_PENDING');
    const accepted = await reloaded.acceptChange(bob.userId);
    expect(accepted.identityKey).toEqual(impostor.identity.publicKey);
    expect(reloaded.encryptionKeyFor(bob.userId)).toEqual(impostor.encryption.publicKey);
  });

  it('treats a second encryption key at the same version as a change (the identity key signed two)', async () => {
    const trust = await TrustStore.load(new MemoryKeyStore(), now);
    const bob = makeUser('bob');
    await trust.observe(bob.published);
    const twin = publish(bob.userId, 'bob', bob.identity, otherIdentity().encryption.publicKey, 1);
    expect((await trust.observe(twin)).status).toBe('changed');
  });

  it('drops a pending change when the directory goes back to the pinned keys', async () => {
    const trust = await TrustStore.load(new MemoryKeyStore(), now);
    const bob = makeUser('bob');
    await trust.observe(bob.published);
    const impostor = otherIdentity();
    await trust.observe(
      publish(bob.userId, 'bob', impostor.identity, impostor.encryption.publicKey, 1),
    );
    expect((await trust.observe(bob.published)).status).toBe('unchanged');
    expect(trust.encryptionKeyFor(bob.userId)).toEqual(bob.encryption.publicKey);
  });

  it('computes the same safety number on both sides and verifies a scanned code', async () => {
    const alice = makeUser('alice');
    const bob = makeUser('bob');
    const aliceTrust = await TrustStore.load(new MemoryKeyStore(), now);
    const bobTrust = await TrustStore.load(new MemoryKeyStore(), now);
    await aliceTrust.observe(bob.published);
    await bobTrust.observe(alice.published);
    const aliceMe = { userId: alice.userId, identityKey: alice.identity.publicKey };
    const bobMe = { userId: bob.userId, identityKey: bob.identity.publicKey };
    const seenByAlice = aliceTrust.safetyNumber(aliceMe, bob.userId);
    expect(seenByAlice.digits).toHaveLength(60);
    expect(bobTrust.safetyNumber(bobMe, alice.userId)).toEqual(seenByAlice);

    await expectClientCode(
      aliceTrust.verifyScannedCode(aliceMe, bob.userId, flipLastHexDigit(seenByAlice.qrPayload)),
      'SAFETY_NUMBER_MISMATCH',
    );
    expect(aliceTrust.get(bob.userId)?.verified).toBe(false);
    const verified = await aliceTrust.verifyScannedCode(aliceMe, bob.userId, seenByAlice.qrPayload);
    expect(verified.verified).toBe(true);
  });

  it('accepting a change clears the verified flag; verified contacts travel through export/import', async () => {
    const trust = await TrustStore.load(new MemoryKeyStore(), now);
    const bob = makeUser('bob');
    const carol = makeUser('carol');
    await trust.observe(bob.published);
    await trust.observe(carol.published);
    await trust.setVerified(bob.userId, true);
    const exported = trust.exportVerified();
    expect(exported).toHaveLength(1);

    const restored = await TrustStore.load(new MemoryKeyStore(), now);
    await restored.observe(bob.published);
    await restored.observe(carol.published);
    await restored.importVerified([...exported, `${carol.userId}:not-her-key`]);
    expect(restored.get(bob.userId)?.verified).toBe(true);
    expect(restored.get(carol.userId)?.verified).toBe(false);

    const impostor = otherIdentity();
    await trust.observe(
      publish(bob.userId, 'bob', impostor.identity, impostor.encryption.publicKey, 1),
    );
    expect((await trust.acceptChange(bob.userId)).verified).toBe(false);
  });

  it('refuses unknown contacts', async () => {
    const trust = await TrustStore.load(new MemoryKeyStore(), now);
    await expectClientCode(() => trust.encryptionKeyFor('00'.repeat(16)), 'UNKNOWN_CONTACT');
    await expectClientCode(trust.acceptChange('00'.repeat(16)), 'UNKNOWN_CONTACT');
  });
});

function flipLastHexDigit(text: string): string {
  return text.slice(0, -1) + (text.endsWith('0') ? '1' : '0');
}
