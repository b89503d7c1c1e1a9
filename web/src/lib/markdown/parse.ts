// Parley's markdown subset (PROTOCOL.md §6.3: message text is "text with a small markdown subset"):
// **bold** / __bold__, *italic* / _italic_, `inline code`, ``` fenced code blocks ```, links
// [label](url) and bare http(s) URLs. Everything else is text. The parser returns a tree of plain
// objects; render.ts turns it into DOM nodes with createElement and text nodes only, so no input
// can ever become markup.

export type Inline =
  | { type: 'text'; text: string }
  | { type: 'strong'; children: Inline[] }
  | { type: 'em'; children: Inline[] }
  | { type: 'code'; text: string }
  | { type: 'link'; href: string; children: Inline[] }
  | { type: 'break' };

export type Block =
  | { type: 'paragraph'; children: Inline[] }
  | { type: 'code-block'; text: string; language: string | undefined };

/** The URL schemes a link may have; anything else (javascript:, data:, vbscript:, ...) stays text. */
export const ALLOWED_LINK_PROTOCOLS: readonly string[] = ['http:', 'https:', 'mailto:'];

/** Nesting deeper than this is left as text, so hostile input cannot recurse without bound. */
const MAX_DEPTH = 8;

export function parseMessage(source: string): Block[] {
  const blocks: Block[] = [];
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  let paragraph: string[] = [];
  const flush = (): void => {
    const text = paragraph.join('\n').trim();
    if (text !== '') blocks.push({ type: 'paragraph', children: parseInline(text) });
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^\s*```\s*([\w+#.-]*)\s*$/.exec(line);
    if (fence !== null) {
      const end = lines.findIndex((candidate, j) => j > i && /^\s*```\s*$/.test(candidate));
      if (end !== -1) {
        flush();
        blocks.push({
          type: 'code-block',
          text: lines.slice(i + 1, end).join('\n'),
          language: fence[1] === '' ? undefined : fence[1],
        });
        i = end;
        continue;
      }
    }
    if (line.trim() === '') flush();
    else paragraph.push(line);
  }
  flush();
  return blocks;
}

/** The href to use for a link target, or undefined when it is not an allowed absolute URL. */
export function safeHref(target: string): string | undefined {
  const trimmed = target.trim();
  // Control characters and whitespace inside a URL are a classic way to smuggle a scheme past a
  // naive check ("java\tscript:"); refuse them outright rather than normalise.
  // eslint-disable-next-line no-control-regex
  if (trimmed === '' || /[\u0000-\u0020\u007f]/.test(trimmed)) return undefined;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (!ALLOWED_LINK_PROTOCOLS.includes(url.protocol)) return undefined;
  if (url.protocol !== 'mailto:' && url.hostname === '') return undefined;
  return url.href;
}

/** `inLink`: the text is a link's label, where no link may start (an anchor inside an anchor). */
export function parseInline(text: string, depth = 0, inLink = false): Inline[] {
  return new InlineParser(text, depth, inLink).parse();
}

const PUNCTUATION_AFTER_URL = /[.,;:!?'")\]]+$/;

class InlineParser {
  private readonly out: Inline[] = [];
  private buffer = '';
  /** Delimiters with no closer after some position have none after any later one either. */
  private readonly unclosed = new Set<string>();

  constructor(
    private readonly text: string,
    private readonly depth: number,
    private readonly inLink: boolean,
  ) {}

  parse(): Inline[] {
    const { text } = this;
    let i = 0;
    while (i < text.length) {
      const next = this.tryCode(i) ?? this.tryEmphasis(i) ?? this.tryLink(i) ?? this.tryAutolink(i);
      if (next !== undefined) {
        i = next;
        continue;
      }
      const char = text[i]!;
      if (char === '\n') {
        this.flushText();
        this.out.push({ type: 'break' });
      } else if (char === '\\' && i + 1 < text.length && /[\\`*_[\]()]/.test(text[i + 1]!)) {
        // A backslash escapes a markdown character so it can be written literally.
        this.buffer += text[i + 1];
        i += 2;
        continue;
      } else {
        this.buffer += char;
      }
      i += 1;
    }
    this.flushText();
    return this.out;
  }

  private tryCode(i: number): number | undefined {
    if (this.text[i] !== '`') return undefined;
    const end = this.findCloser('`', i + 1, () => true);
    if (end === undefined || end === i + 1) return undefined;
    this.push({ type: 'code', text: this.text.slice(i + 1, end) });
    return end + 1;
  }

  private tryEmphasis(i: number): number | undefined {
    const { text } = this;
    const char = text[i];
    if (char !== '*' && char !== '_') return undefined;
    if (this.depth >= MAX_DEPTH) return undefined;
    // Underscores inside words (snake_case) are text, as in most chat apps.
    if (char === '_' && i > 0 && /[\p{L}\p{N}]/u.test(text[i - 1]!)) return undefined;
    const marker = text[i + 1] === char ? char + char : char;
    const start = i + marker.length;
    if (start >= text.length || /\s/.test(text[start]!)) return undefined;
    const end = this.findCloser(marker, start + 1, (at) => {
      if (/\s/.test(text[at - 1]!)) return false;
      // A single marker must not be half of a double one.
      if (marker.length === 1 && (text[at + 1] === char || text[at - 1] === char)) return false;
      if (char === '_' && at + marker.length < text.length) {
        return !/[\p{L}\p{N}]/u.test(text[at + marker.length]!);
      }
      return true;
    });
    if (end === undefined) return undefined;
    const children = parseInline(text.slice(start, end), this.depth + 1, this.inLink);
    this.push({ type: marker.length === 2 ? 'strong' : 'em', children });
    return end + marker.length;
  }

  private tryLink(i: number): number | undefined {
    const { text } = this;
    if (text[i] !== '[' || this.inLink || this.depth >= MAX_DEPTH) return undefined;
    const labelEnd = this.findCloser(']', i + 1, (at) => text[at + 1] === '(');
    if (labelEnd === undefined) return undefined;
    const targetEnd = text.indexOf(')', labelEnd + 2);
    if (targetEnd === -1) return undefined;
    const label = text.slice(i + 1, labelEnd);
    const href = safeHref(text.slice(labelEnd + 2, targetEnd));
    // A link to a refused scheme is shown as the text that was typed, target included.
    if (href === undefined || label.trim() === '') return undefined;
    this.push({ type: 'link', href, children: parseInline(label, this.depth + 1, true) });
    return targetEnd + 1;
  }

  private tryAutolink(i: number): number | undefined {
    const { text } = this;
    if (text[i] !== 'h' || this.inLink) return undefined;
    if (i > 0 && /[\p{L}\p{N}]/u.test(text[i - 1]!)) return undefined;
    const match = /^https?:\/\/[^\s<>]+/.exec(text.slice(i, i + 2048));
    if (match === null) return undefined;
    const raw = match[0].replace(PUNCTUATION_AFTER_URL, '');
    const href = safeHref(raw);
    if (href === undefined) return undefined;
    this.push({ type: 'link', href, children: [{ type: 'text', text: raw }] });
    return i + raw.length;
  }

  /** The index of the first `marker` at or after `from` for which `accept` holds. */
  private findCloser(
    marker: string,
    from: number,
    accept: (at: number) => boolean,
  ): number | undefined {
    if (this.unclosed.has(marker)) return undefined;
    for (let at = this.text.indexOf(marker, from); at !== -1;) {
      if (accept(at)) return at;
      at = this.text.indexOf(marker, at + 1);
    }
    this.unclosed.add(marker);
    return undefined;
  }

  private push(node: Inline): void {
    this.flushText();
    this.out.push(node);
  }

  private flushText(): void {
    if (this.buffer === '') return;
    this.out.push({ type: 'text', text: this.buffer });
    this.buffer = '';
  }
}
