// Turns the markdown tree of parse.ts into DOM nodes. Only createElement, createTextNode and
// setAttribute with fixed attribute names are used: message text is never parsed as HTML, so a
// message holding "<script>" shows those characters and runs nothing.
import { parseMessage, type Block, type Inline } from './parse';

/** Renders message text into a fragment owned by `document`. */
export function renderMessage(source: string, document: Document): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const block of parseMessage(source)) fragment.append(renderBlock(block, document));
  return fragment;
}

function renderBlock(block: Block, document: Document): Node {
  if (block.type === 'code-block') {
    const pre = document.createElement('pre');
    const code = document.createElement('code');
    if (block.language !== undefined) code.dataset.language = block.language;
    code.append(document.createTextNode(block.text));
    pre.append(code);
    return pre;
  }
  const paragraph = document.createElement('p');
  appendInlines(paragraph, block.children, document);
  return paragraph;
}

function appendInlines(parent: Element, inlines: Inline[], document: Document): void {
  for (const inline of inlines) parent.append(renderInline(inline, document));
}

function renderInline(inline: Inline, document: Document): Node {
  switch (inline.type) {
    case 'text':
      return document.createTextNode(inline.text);
    case 'break':
      return document.createElement('br');
    case 'code': {
      const code = document.createElement('code');
      code.append(document.createTextNode(inline.text));
      return code;
    }
    case 'strong':
    case 'em': {
      const element = document.createElement(inline.type);
      appendInlines(element, inline.children, document);
      return element;
    }
    case 'link':
      return renderLink(inline, document);
  }
}

/**
 * A link, with its real target shown beside it when its text reads as a different address: text
 * saying "https://bank.example" that opens somewhere else is the oldest phishing trick there is.
 * The target is also the link's title, shown on hover before anything opens.
 */
function renderLink(link: Extract<Inline, { type: 'link' }>, document: Document): Node {
  const anchor = document.createElement('a');
  // parse.ts admits only http:, https: and mailto: URLs here (safeHref).
  anchor.setAttribute('href', link.href);
  anchor.setAttribute('title', link.href);
  anchor.setAttribute('rel', 'noopener noreferrer nofollow');
  anchor.setAttribute('target', '_blank');
  appendInlines(anchor, link.children, document);
  if (!misleadingLinkText(anchor.textContent ?? '', link.href)) return anchor;
  const fragment = document.createDocumentFragment();
  const warning = document.createElement('span');
  warning.className = 'link-target';
  warning.append(document.createTextNode(` (goes to ${link.href})`));
  fragment.append(anchor, warning);
  return fragment;
}

/** True when `text` looks like a web address and is not the address `href` opens. */
export function misleadingLinkText(text: string, href: string): boolean {
  const written = text.trim();
  if (!/^(https?:\/\/|www\.)\S+$|^[a-z0-9-]+(\.[a-z0-9-]+)+(\/\S*)?$/i.test(written)) return false;
  let shown: URL;
  try {
    shown = new URL(/^https?:\/\//i.test(written) ? written : `https://${written}`);
  } catch {
    return false;
  }
  const target = new URL(href);
  // "example.org" for https://example.org/ is the same address; another host or path is not.
  const same = (url: URL) =>
    `${url.host}${url.pathname.replace(/\/$/, '')}${url.search}${url.hash}`;
  return same(shown).toLowerCase() !== same(target).toLowerCase();
}
