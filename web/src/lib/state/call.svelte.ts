// The call of this browser: the RTCPeerConnection, the camera and microphone, and what the call
// view shows. The signalling and its rules are the client's (calls.ts): this class turns its states
// into WebRTC steps and reports back what the media did. Each side makes its own DTLS certificate
// for the call and sends that certificate's fingerprint in the signed signalling; the client hands
// over the other side's description only when its fingerprint is that signed one, and after ICE
// connects the certificate the handshake met is compared with it once more.
import type { CallMedia, CallState, Client, DtlsFingerprint, IceCandidate } from '@parley/client';
import { createContext } from 'svelte';
import { describeError } from '../failures';
import type { Session } from './session.svelte';

/** The call controller of the signed-in session, when there is one (the layout keeps it). */
export class CallSlot {
  current = $state.raw<CallController | undefined>(undefined);
}

export const [getCalls, setCalls] = createContext<CallSlot>();

/** How long gathered ICE candidates wait to go out together in one message. */
const CANDIDATE_BATCH_MS = 60;

export class CallController {
  /** The client's view of the call (undefined before the first; ended ones stay until the next). */
  state = $state.raw<CallState | undefined>(undefined);
  localStream = $state.raw<MediaStream | undefined>(undefined);
  remoteStream = $state.raw<MediaStream | undefined>(undefined);
  muted = $state(false);
  cameraOff = $state(false);
  /** Between a call button and the offer going out (the camera is being opened). */
  starting = $state(false);
  /** Ticks every second while a call is up, for its duration. */
  now = $state(Date.now());

  private pc: RTCPeerConnection | undefined;
  /** The senders of this side's tracks: a muted one sends nothing (replaceTrack(null)). */
  private senders: Partial<Record<'audio' | 'video', RTCRtpSender>> = {};
  private outgoing: IceCandidate[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Candidates go out once the client knows the call (and, answering, once the answer went). */
  private sending = false;
  private readonly unsubscribe: (() => void)[];
  private readonly ticker = setInterval(() => (this.now = Date.now()), 1000);

  constructor(
    private readonly session: Session,
    private readonly client: Client,
  ) {
    this.unsubscribe = [
      client.on('call', (state) => void this.changed(state)),
      client.on('call-candidates', (event) => {
        if (event.callId === this.state?.callId) void this.addRemoteCandidates();
      }),
    ];
  }

  /** Whether a call is ringing or up: the banner or the call view shows. */
  get inCall(): boolean {
    return this.state !== undefined && this.state.phase !== 'ended';
  }

  /** Whether a new call may be placed now. */
  get canCall(): boolean {
    return !this.inCall && !this.starting;
  }

  /** Rings the other person of a direct room. */
  async start(roomId: string, media: CallMedia): Promise<void> {
    if (this.inCall || this.starting) return;
    this.starting = true;
    try {
      const { pc, fingerprint } = await this.open(media);
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      this.state = await this.client.calls.start(roomId, media, {
        sdp: pc.localDescription!.sdp,
        fingerprint,
      });
      this.sending = true;
      this.flush();
    } catch (error) {
      this.teardown();
      this.session.notify(`The call could not start: ${describeError(error)}`, 'warning');
    } finally {
      this.starting = false;
    }
  }

  async accept(): Promise<void> {
    const call = this.state;
    if (call?.phase !== 'incoming-ringing' || call.remote === undefined) return;
    try {
      const { pc, fingerprint } = await this.open(call.media);
      await pc.setRemoteDescription({ type: 'offer', sdp: call.remote.sdp });
      await this.addRemoteCandidates();
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.state = await this.client.calls.accept(call.callId, {
        sdp: pc.localDescription!.sdp,
        fingerprint,
      });
      this.sending = true;
      this.flush();
    } catch (error) {
      this.session.notify(`The call could not be answered: ${describeError(error)}`, 'warning');
      await this.client.calls.hangUp(call.callId).catch(() => undefined);
      this.teardown();
    }
  }

  async decline(): Promise<void> {
    const call = this.state;
    if (call?.phase === 'incoming-ringing') await this.client.calls.decline(call.callId);
  }

  async hangUp(): Promise<void> {
    const call = this.state;
    if (call !== undefined && call.phase !== 'ended') await this.client.calls.hangUp(call.callId);
  }

  /** Mute stops sending audio at all (no packets), not only silence. */
  async toggleMute(): Promise<void> {
    this.muted = !this.muted;
    await this.setSending('audio', !this.muted);
  }

  async toggleCamera(): Promise<void> {
    this.cameraOff = !this.cameraOff;
    await this.setSending('video', !this.cameraOff);
  }

  dispose(): void {
    clearInterval(this.ticker);
    for (const off of this.unsubscribe) off();
    const call = this.state;
    if (call !== undefined && call.phase !== 'ended')
      void this.client.calls.hangUp(call.callId).catch(() => undefined);
    this.teardown();
  }

  // ----- the client's states, in WebRTC -----

  private async changed(state: CallState): Promise<void> {
    this.state = state;
    if (state.phase === 'ended') {
      this.teardown();
      if (state.error !== undefined) {
        this.session.notify(`Call refused: ${state.error}`, 'critical');
      } else if (state.outgoing) {
        const name = this.session.nameOf(state.peerId);
        const outcome: Partial<Record<string, string>> = {
          declined: `${name} declined the call.`,
          busy: `${name} is on another call.`,
          missed: `${name} did not answer.`,
        };
        const text = outcome[state.endReason ?? ''];
        if (text !== undefined) this.session.notify(text);
      }
      return;
    }
    if (state.phase === 'incoming-ringing')
      this.session.notifyIncomingCall(
        state.roomId,
        this.session.nameOf(state.peerId),
        state.media === 'video',
      );
    const pc = this.pc;
    // The answer arrived, its fingerprint checked by the client against the signed one.
    if (
      state.outgoing &&
      state.phase === 'connecting' &&
      state.remote?.type === 'answer' &&
      pc !== undefined &&
      pc.remoteDescription === null
    ) {
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp: state.remote.sdp });
        await this.addRemoteCandidates();
      } catch (error) {
        await this.client.calls.mediaFailed(state.callId, describeError(error));
      }
    }
  }

  /** A peer connection with a certificate of its own, the camera and microphone on it. */
  private async open(
    media: CallMedia,
  ): Promise<{ pc: RTCPeerConnection; fingerprint: DtlsFingerprint }> {
    this.muted = false;
    this.cameraOff = false;
    this.outgoing = [];
    this.sending = false;
    const [stream, certificate, iceServers] = await Promise.all([
      navigator.mediaDevices.getUserMedia({ audio: true, video: media === 'video' }),
      RTCPeerConnection.generateCertificate({
        name: 'ECDSA',
        namedCurve: 'P-256',
      } as EcKeyGenParams),
      this.client.iceServers().catch(() => []),
    ]);
    const fingerprint = certificate
      .getFingerprints()
      .find((candidate) => candidate.algorithm?.toLowerCase() === 'sha-256');
    if (fingerprint?.value === undefined) {
      for (const track of stream.getTracks()) track.stop();
      throw new Error('this browser gave its call certificate no SHA-256 fingerprint');
    }
    const pc = new RTCPeerConnection({ iceServers, certificates: [certificate] });
    this.pc = pc;
    this.localStream = stream;
    this.senders = {};
    for (const track of stream.getTracks()) {
      this.senders[track.kind as 'audio' | 'video'] = pc.addTrack(track, stream);
    }
    const remote = new MediaStream();
    this.remoteStream = remote;
    pc.ontrack = (event) => {
      remote.addTrack(event.track);
      // A new object, so the view assigns it again and the video element plays the new track.
      this.remoteStream = new MediaStream(remote.getTracks());
    };
    pc.onicecandidate = (event) => {
      if (event.candidate === null) return this.flush();
      const { candidate, sdpMid, sdpMLineIndex } = event.candidate;
      if (candidate === '') return;
      this.outgoing.push({ candidate, sdpMid, sdpMLineIndex });
      this.flushTimer ??= setTimeout(() => this.flush(), CANDIDATE_BATCH_MS);
    };
    pc.onconnectionstatechange = () => void this.connectionChanged(pc);
    return { pc, fingerprint: { algorithm: 'sha-256', value: fingerprint.value.toUpperCase() } };
  }

  private async connectionChanged(pc: RTCPeerConnection): Promise<void> {
    const call = this.state;
    if (pc !== this.pc || call === undefined || call.phase === 'ended') return;
    if (pc.connectionState === 'connected') {
      try {
        const met = await remoteCertificate(pc);
        if (met !== undefined) await this.client.calls.verifyRemoteCertificate(call.callId, met);
        this.client.calls.mediaConnected(call.callId);
      } catch {
        // verifyRemoteCertificate ended the call and told the other side.
      }
    } else if (pc.connectionState === 'failed') {
      // ICE through, DTLS not: the other side presented a certificate its signed message did
      // not vouch for (the browser checks it against the fingerprint of the description).
      const dtls = pc.getSenders()[0]?.transport;
      const refused = dtls?.state === 'failed' && dtls.iceTransport.state !== 'failed';
      await this.client.calls
        .mediaFailed(
          call.callId,
          refused
            ? 'the other side’s media key is not the one in its signed signalling'
            : 'no network path to the other side was found',
          refused,
        )
        .catch(() => undefined);
    }
  }

  private async addRemoteCandidates(): Promise<void> {
    const pc = this.pc;
    const call = this.state;
    if (pc === undefined || call === undefined || pc.remoteDescription === null) return;
    for (const candidate of this.client.calls.takeCandidates(call.callId)) {
      await pc.addIceCandidate(candidate).catch(() => undefined);
    }
  }

  private flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const call = this.state;
    if (!this.sending || call === undefined || call.phase === 'ended' || this.outgoing.length === 0)
      return;
    const batch = this.outgoing.splice(0, 32);
    void this.client.calls.sendCandidates(call.callId, batch).catch(() => undefined);
    if (this.outgoing.length > 0) this.flush();
  }

  private async setSending(kind: 'audio' | 'video', on: boolean): Promise<void> {
    const track = this.localStream?.getTracks().find((candidate) => candidate.kind === kind);
    if (track === undefined) return;
    track.enabled = on;
    const sender = this.senders[kind];
    await sender?.replaceTrack(on ? track : null);
  }

  private teardown(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.outgoing = [];
    this.sending = false;
    this.pc?.close();
    this.pc = undefined;
    for (const track of this.localStream?.getTracks() ?? []) track.stop();
    this.localStream = undefined;
    this.remoteStream = undefined;
  }
}

/** The fingerprint of the certificate the DTLS handshake met, from the connection's stats. */
async function remoteCertificate(pc: RTCPeerConnection): Promise<DtlsFingerprint | undefined> {
  const stats = await pc.getStats();
  for (const report of stats.values() as IterableIterator<Record<string, unknown>>) {
    if (report.type !== 'transport' || typeof report.remoteCertificateId !== 'string') continue;
    const certificate = stats.get(report.remoteCertificateId) as
      { fingerprint?: string; fingerprintAlgorithm?: string } | undefined;
    if (certificate?.fingerprint === undefined || certificate.fingerprintAlgorithm === undefined)
      continue;
    return {
      algorithm: certificate.fingerprintAlgorithm.toLowerCase(),
      value: certificate.fingerprint.toUpperCase(),
    };
  }
  return undefined;
}
