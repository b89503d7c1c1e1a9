// 1:1 calls in direct rooms (PROTOCOL.md §6.7): the signalling state machine. The media itself is
// the application's (an RTCPeerConnection in the web app); this module decides what each party may
// do and when, sends the signalling as signed, encrypted `call` messages, and hands the app a remote
// description only once its DTLS fingerprint is the one the signed message vouches for, so the
// server that relays the signalling cannot stand in the media path. Runs in Node: no WebRTC here.
//
//   (idle) ─start→ outgoing-ringing ─answer→ connecting ─mediaConnected→ active ─hangUp→ ended
//   (idle) ─offer→ incoming-ringing ─accept→ connecting ─mediaConnected→ active
//   ringing ─decline / cancel / 30 s→ ended; any ─refused fingerprint / failed media→ ended
import { toHex, type MessagePayloadInput } from '@parley/crypto';
import {
  CallSignalError,
  checkSdpFingerprint,
  encodeCallSignal,
  parseCallSignal,
  sameFingerprint,
  type CallHangUpReason,
  type CallMedia,
  type CallSignal,
  type DtlsFingerprint,
  type IceCandidate,
} from './call-signal';
import { ClientError } from './errors';
import type { ClientEventEmitter, ReceivedMessage } from './events';
import type { Clock, Logger } from './options';

export type CallPhase =
  'idle' | 'outgoing-ringing' | 'incoming-ringing' | 'connecting' | 'active' | 'ended';

export type CallEndReason =
  /** This side hung up. */
  | 'hangup'
  /** The other side hung up. */
  | 'remote-hangup'
  | 'declined'
  /** The other side is in another call. */
  | 'busy'
  /** Nobody answered within the ring timeout (or the caller gave up first). */
  | 'missed'
  /** The caller hung up before an answer. */
  | 'cancelled'
  /** A description's DTLS fingerprint was not the signed one (here or at the other side). */
  | 'refused'
  /** The media connection failed. */
  | 'failed'
  /** Another device of this account answered or declined. */
  | 'answered-elsewhere';

export interface CallDescription {
  sdp: string;
  /** This side's DTLS certificate fingerprint (RTCCertificate.getFingerprints()). */
  fingerprint: DtlsFingerprint;
}

export interface CallState {
  callId: string;
  roomId: string;
  peerId: string;
  outgoing: boolean;
  media: CallMedia;
  phase: CallPhase;
  endReason: CallEndReason | undefined;
  /** Why it was refused or failed, in words for the user. */
  error: string | undefined;
  /** When it started ringing (ms since 1970, this device's clock). */
  ringingSince: number;
  connectedAt: number | undefined;
  endedAt: number | undefined;
  /** The other side's description, only ever one whose fingerprint matched its signed one. */
  remote: { type: 'offer' | 'answer'; sdp: string; fingerprint: DtlsFingerprint } | undefined;
}

export interface CallsDeps {
  send(roomId: string, payload: MessagePayloadInput): Promise<unknown>;
  events: ClientEventEmitter;
  clock: Clock;
  logger: Logger;
  /** The other party of a direct room this account is a member of; undefined otherwise. */
  directPeer(roomId: string): string | undefined;
  ringTimeoutMs: number;
}

const OPERATION = 'calls';

export class Calls {
  private call: CallState | undefined;
  private candidates: IceCandidate[] = [];
  private ringTimer: unknown;

  constructor(private readonly deps: CallsDeps) {
    deps.events.on('message', (message) => this.receive(message));
  }

  /** The call in progress, or the last one (ended); undefined before any. */
  get current(): CallState | undefined {
    return this.call === undefined ? undefined : { ...this.call };
  }

  /** Whether a call is ringing or up (another one gets `busy`). */
  get busy(): boolean {
    return this.call !== undefined && this.call.phase !== 'ended';
  }

  /** Rings the other party of a direct room with this side's offer. */
  async start(roomId: string, media: CallMedia, offer: CallDescription): Promise<CallState> {
    const operation = 'startCall';
    const peerId = this.deps.directPeer(roomId);
    if (peerId === undefined)
      throw new ClientError(
        'NOT_ALLOWED',
        operation,
        'calls are between the two people of a direct room',
      );
    if (this.busy) throw new ClientError('CALL_BUSY', operation, 'another call is in progress');
    this.checkOwn(offer, operation);
    const callId = toHex(crypto.getRandomValues(new Uint8Array(16)));
    this.candidates = [];
    this.call = {
      callId,
      roomId,
      peerId,
      outgoing: true,
      media,
      phase: 'outgoing-ringing',
      endReason: undefined,
      error: undefined,
      ringingSince: this.deps.clock.now(),
      connectedAt: undefined,
      endedAt: undefined,
      remote: undefined,
    };
    await this.signalOrEnd({ type: 'offer', callId, media, ...offer });
    // The caller gives up: both sides then record a missed call.
    this.ring(() => void this.finish('missed', { type: 'end', reason: 'timeout' }));
    this.emit();
    return this.current!;
  }

  /** Answers the ringing call with this side's answer to its offer. */
  async accept(callId: string, answer: CallDescription): Promise<CallState> {
    const call = this.require(callId, 'acceptCall', ['incoming-ringing']);
    this.checkOwn(answer, 'acceptCall');
    this.stopRinging();
    call.phase = 'connecting';
    await this.signalOrEnd({ type: 'answer', callId, ...answer });
    this.emit();
    return this.current!;
  }

  async decline(callId: string): Promise<void> {
    this.require(callId, 'declineCall', ['incoming-ringing']);
    await this.finish('declined', { type: 'decline', reason: 'declined' });
  }

  /** Ends the call: cancels it while it rings out, declines it while it rings in. */
  async hangUp(callId: string): Promise<void> {
    const call = this.require(callId, 'hangUp', [
      'outgoing-ringing',
      'incoming-ringing',
      'connecting',
      'active',
    ]);
    if (call.phase === 'incoming-ringing') return this.decline(callId);
    if (call.phase === 'outgoing-ringing')
      return this.finish('cancelled', { type: 'end', reason: 'cancelled' });
    await this.finish('hangup', { type: 'end', reason: 'hangup' });
  }

  /** The app's peer connection is up: the call is active from now (its duration counts). */
  mediaConnected(callId: string): void {
    const call = this.require(callId, 'mediaConnected', ['connecting', 'active']);
    if (call.phase === 'active') return;
    call.phase = 'active';
    call.connectedAt = this.deps.clock.now();
    this.emit();
  }

  /**
   * The app's peer connection failed: the call ends for both. `refused` when the DTLS handshake
   * failed after ICE connected, which is the browser refusing a certificate other than the signed
   * fingerprint (the description's fingerprint was checked against it before it was applied).
   */
  async mediaFailed(callId: string, detail: string, refused = false): Promise<void> {
    this.require(callId, 'mediaFailed', ['connecting', 'active']);
    await this.finish(
      refused ? 'refused' : 'failed',
      { type: 'end', reason: refused ? 'refused' : 'failed' },
      detail,
    );
  }

  /**
   * The certificate the DTLS handshake actually met (from getStats) must be the signed one; on a
   * mismatch the call ends for both and CALL_FINGERPRINT_MISMATCH is thrown.
   */
  async verifyRemoteCertificate(callId: string, fingerprint: DtlsFingerprint): Promise<void> {
    const call = this.require(callId, 'verifyRemoteCertificate', ['connecting', 'active']);
    if (call.remote !== undefined && sameFingerprint(call.remote.fingerprint, fingerprint)) return;
    const detail = `${this.peerWords(call)} media key is not the one in the signed signalling`;
    await this.finish('refused', { type: 'end', reason: 'refused' }, detail);
    throw new ClientError('CALL_FINGERPRINT_MISMATCH', 'verifyRemoteCertificate', detail);
  }

  /** Sends this side's ICE candidates (trickled as they are gathered). */
  async sendCandidates(callId: string, candidates: IceCandidate[]): Promise<void> {
    const call = this.require(callId, 'sendCandidates', [
      'outgoing-ringing',
      'incoming-ringing',
      'connecting',
      'active',
    ]);
    if (candidates.length === 0) return;
    await this.signal(call.roomId, { type: 'ice', callId, candidates });
  }

  /** The other side's candidates received so far and not yet taken (later ones come as events). */
  takeCandidates(callId: string): IceCandidate[] {
    if (this.call?.callId !== callId) return [];
    const out = this.candidates;
    this.candidates = [];
    return out;
  }

  // ----- receiving -----

  /** A verified message of any room: the call signals among them move the state machine. */
  receive(message: ReceivedMessage): void {
    if (message.payload.kind !== 'call') return;
    let signal: CallSignal;
    try {
      signal = parseCallSignal(message.payload.extra);
    } catch (error) {
      this.deps.logger.warn('a call signal was malformed', {
        roomId: message.roomId,
        error: String(error),
      });
      return;
    }
    if (message.own) {
      this.fromOwnDevice(signal);
      return;
    }
    // Only the other party of a direct room may ring or answer this account.
    if (this.deps.directPeer(message.roomId) !== message.senderId) return;
    if (signal.type === 'offer') {
      void this.offered(message, signal);
      return;
    }
    const call = this.call;
    if (call === undefined || call.callId !== signal.callId || call.phase === 'ended') return;
    if (call.roomId !== message.roomId) return;
    switch (signal.type) {
      case 'answer':
        if (call.phase !== 'outgoing-ringing') return;
        if (!this.acceptable(call, signal)) return;
        this.stopRinging();
        call.phase = 'connecting';
        call.remote = { type: 'answer', sdp: signal.sdp, fingerprint: signal.fingerprint };
        this.emit();
        return;
      case 'ice':
        this.candidates.push(...signal.candidates);
        this.deps.events.emit('call-candidates', {
          callId: call.callId,
          roomId: call.roomId,
          candidates: signal.candidates,
        });
        return;
      case 'decline':
        if (call.phase !== 'outgoing-ringing') return;
        this.ended(signal.reason === 'busy' ? 'busy' : 'declined');
        return;
      case 'end':
        this.ended(...this.remoteEnd(call, signal.reason));
        return;
    }
  }

  private async offered(message: ReceivedMessage, signal: Extract<CallSignal, { type: 'offer' }>) {
    if (this.call?.callId === signal.callId) return;
    // An offer read late (the device was offline) rang out already: the history says missed.
    const now = this.deps.clock.now();
    const sent = message.sentAt === undefined ? message.clientTime : Date.parse(message.sentAt);
    if (now - Math.min(sent, message.clientTime) > this.deps.ringTimeoutMs) return;
    if (this.busy) {
      await this.signalQuietly(message.roomId, {
        type: 'decline',
        callId: signal.callId,
        reason: 'busy',
      });
      return;
    }
    this.candidates = [];
    this.call = {
      callId: signal.callId,
      roomId: message.roomId,
      peerId: message.senderId,
      outgoing: false,
      media: signal.media,
      phase: 'incoming-ringing',
      endReason: undefined,
      error: undefined,
      ringingSince: now,
      connectedAt: undefined,
      endedAt: undefined,
      remote: undefined,
    };
    if (!this.acceptable(this.call, signal)) return;
    this.call.remote = { type: 'offer', sdp: signal.sdp, fingerprint: signal.fingerprint };
    // The caller's own timeout ends it for both; this one covers a caller that went away.
    this.ring(() => this.ended('missed'));
    this.emit();
  }

  /** Whether the description carries the signed fingerprint; if not the call is refused. */
  private acceptable(call: CallState, signal: { sdp: string; fingerprint: DtlsFingerprint }) {
    try {
      checkSdpFingerprint(signal.sdp, signal.fingerprint);
      return true;
    } catch (error) {
      if (!(error instanceof CallSignalError)) throw error;
      const detail = `${this.peerWords(call)} media key does not match the signed signalling`;
      void this.finish('refused', { type: 'end', reason: 'refused' }, detail);
      return false;
    }
  }

  /** Another device of this account answered or declined the call ringing here. */
  private fromOwnDevice(signal: CallSignal): void {
    const call = this.call;
    if (call === undefined || call.callId !== signal.callId || call.phase !== 'incoming-ringing')
      return;
    if (signal.type === 'answer' || signal.type === 'decline') this.ended('answered-elsewhere');
  }

  private remoteEnd(call: CallState, reason: CallHangUpReason): [CallEndReason, string?] {
    if (reason === 'refused')
      return [
        'refused',
        `${this.peerWords(call)} app refused the call: the media keys did not match`,
      ];
    if (reason === 'failed') return ['failed', 'the media connection failed'];
    if (call.phase === 'incoming-ringing') return ['missed'];
    return ['remote-hangup'];
  }

  // ----- helpers -----

  private require(callId: string, operation: string, phases: CallPhase[]): CallState {
    const call = this.call;
    if (call === undefined || call.callId !== callId)
      throw new ClientError('CALL_NOT_FOUND', operation, `no call ${callId}`);
    if (!phases.includes(call.phase))
      throw new ClientError('NOT_ALLOWED', operation, `the call is ${call.phase}`);
    return call;
  }

  /** This side's own description must carry its own fingerprint, or the other side refuses it. */
  private checkOwn(description: CallDescription, operation: string): void {
    try {
      checkSdpFingerprint(description.sdp, description.fingerprint);
    } catch (error) {
      if (!(error instanceof CallSignalError)) throw error;
      throw new ClientError('CALL_FINGERPRINT_MISMATCH', operation, error.message);
    }
  }

  /** Sends the closing signal (best effort) and ends the call here. */
  private async finish(
    reason: CallEndReason,
    signal:
      { type: 'end'; reason: CallHangUpReason } | { type: 'decline'; reason: 'declined' | 'busy' },
    error?: string,
  ): Promise<void> {
    const call = this.call;
    if (call === undefined || call.phase === 'ended') return;
    this.ended(reason, error);
    await this.signalQuietly(call.roomId, { ...signal, callId: call.callId } as CallSignal);
  }

  private ended(reason: CallEndReason, error?: string): void {
    const call = this.call;
    if (call === undefined || call.phase === 'ended') return;
    this.stopRinging();
    call.phase = 'ended';
    call.endReason = reason;
    call.error = error;
    call.endedAt = this.deps.clock.now();
    this.candidates = [];
    this.emit();
  }

  private ring(onTimeout: () => void): void {
    this.stopRinging();
    this.ringTimer = this.deps.clock.setTimeout(onTimeout, this.deps.ringTimeoutMs);
  }

  private stopRinging(): void {
    if (this.ringTimer !== undefined) this.deps.clock.clearTimeout(this.ringTimer);
    this.ringTimer = undefined;
  }

  private signal(roomId: string, signal: CallSignal): Promise<unknown> {
    return this.deps.send(roomId, { kind: 'call', extra: encodeCallSignal(signal) });
  }

  /** An offer or answer that cannot be sent (no room key yet, removed) ends the call here. */
  private async signalOrEnd(signal: CallSignal): Promise<void> {
    const call = this.call!;
    try {
      await this.signal(call.roomId, signal);
    } catch (error) {
      this.ended('failed', 'the call signal could not be sent');
      throw error;
    }
  }

  /** A closing signal that cannot be sent (offline, left the room) still ends the call here. */
  private async signalQuietly(roomId: string, signal: CallSignal): Promise<void> {
    try {
      await this.signal(roomId, signal);
    } catch (error) {
      this.deps.logger.warn('a call signal could not be sent', {
        operation: OPERATION,
        error: String(error),
      });
    }
  }

  private peerWords(call: CallState): string {
    return call.outgoing ? 'the answering side’s' : 'the caller’s';
  }

  private emit(): void {
    if (this.call !== undefined) this.deps.events.emit('call', { ...this.call });
  }
}
