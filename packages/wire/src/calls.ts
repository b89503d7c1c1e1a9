import { Type, type Static } from '@sinclair/typebox';

/**
 * The STUN and TURN servers a client gives its RTCPeerConnection for calls (the server's
 * ICE_SERVERS), in the shape of WebRTC's RTCIceServer. Served only to signed-in accounts: a TURN
 * credential lets whoever holds it relay traffic through that server.
 */
export const IceServer = Type.Object(
  {
    urls: Type.Array(Type.String({ pattern: '^(stun|stuns|turn|turns):', maxLength: 512 }), {
      minItems: 1,
      maxItems: 16,
    }),
    username: Type.Optional(Type.String({ maxLength: 512 })),
    credential: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type IceServer = Static<typeof IceServer>;

export const IceServersResponse = Type.Object({
  iceServers: Type.Array(IceServer, { maxItems: 16 }),
});
export type IceServersResponse = Static<typeof IceServersResponse>;
