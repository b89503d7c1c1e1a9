// How a message header and payload are written in message.json: the generator writes them this
// way and the checker compares what the library opens against them in the same form.
import {
  encodeAttachmentDescriptor,
  toHex,
  type MessageHeader,
  type MessagePayload,
} from '@parley/crypto';

export function headerJson(header: MessageHeader) {
  return {
    version: header.version,
    roomId: toHex(header.roomId),
    epoch: header.epoch,
    senderId: toHex(header.senderId),
    counter: header.counter,
    messageId: toHex(header.messageId),
    clientTime: header.clientTime,
    prevHash: toHex(header.prevHash),
  };
}

export function payloadJson(payload: MessagePayload) {
  return {
    kind: payload.kind,
    text: payload.text,
    replyTo: toHex(payload.replyTo),
    target: toHex(payload.target),
    attachments: payload.attachments.map((a) => toHex(encodeAttachmentDescriptor(a))),
    extra: toHex(payload.extra),
  };
}
