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
    case 'link': {
      const anchor = document.createElement('a');
      // parse.ts admits only http:, https: and mailto: URLs here (safeHref).
      anchor.setAttribute('href', inline.href);
      anchor.setAttribute('rel', 'noopener noreferrer nofollow');
      anchor.setAttribute('target', '_blank');
      appendInlines(anchor, inline.children, document);
      return anchor;
    }
  }
}
