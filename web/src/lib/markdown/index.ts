export { parseMessage, parseInline, safeHref, ALLOWED_LINK_PROTOCOLS } from './parse';
export type { Block, Inline } from './parse';
export { renderMessage } from './render';
