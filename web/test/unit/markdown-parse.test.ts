import { describe, expect, it } from 'vitest';
import { parseInline, parseMessage, safeHref } from '../../src/lib/markdown';

describe('parseInline', () => {
  it('reads bold, italic, inline code and plain text', () => {
    expect(parseInline('a **b** _c_ *d* __e__ `f`')).toEqual([
      { type: 'text', text: 'a ' },
      { type: 'strong', children: [{ type: 'text', text: 'b' }] },
      { type: 'text', text: ' ' },
      { type: 'em', children: [{ type: 'text', text: 'c' }] },
      { type: 'text', text: ' ' },
      { type: 'em', children: [{ type: 'text', text: 'd' }] },
      { type: 'text', text: ' ' },
      { type: 'strong', children: [{ type: 'text', text: 'e' }] },
      { type: 'text', text: ' ' },
      { type: 'code', text: 'f' },
    ]);
  });

  it('nests emphasis inside bold and keeps code literal', () => {
    expect(parseInline('**bold _and italic_**')).toEqual([
      {
        type: 'strong',
        children: [
          { type: 'text', text: 'bold ' },
          { type: 'em', children: [{ type: 'text', text: 'and italic' }] },
        ],
      },
    ]);
    expect(parseInline('`**not bold**`')).toEqual([{ type: 'code', text: '**not bold**' }]);
  });

  it('leaves snake_case, lone markers and spaced markers as text', () => {
    expect(parseInline('snake_case_name')).toEqual([{ type: 'text', text: 'snake_case_name' }]);
    expect(parseInline('2 * 3 * 4')).toEqual([{ type: 'text', text: '2 * 3 * 4' }]);
    expect(parseInline('** not bold**')).toEqual([{ type: 'text', text: '** not bold**' }]);
    expect(parseInline('a ` b')).toEqual([{ type: 'text', text: 'a ` b' }]);
  });

  it('honours backslash escapes', () => {
    expect(parseInline('\\*not italic\\*')).toEqual([{ type: 'text', text: '*not italic*' }]);
  });

  it('makes links of http, https and mailto targets only', () => {
    expect(parseInline('[site](https://example.org/a?b=1)')).toEqual([
      {
        type: 'link',
        href: 'https://example.org/a?b=1',
        children: [{ type: 'text', text: 'site' }],
      },
    ]);
    expect(parseInline('[mail](mailto:a@example.org)')[0]).toMatchObject({
      type: 'link',
      href: 'mailto:a@example.org',
    });
    for (const target of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      'java\tscript:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      '/relative',
      '//evil.example',
    ]) {
      const parsed = parseInline(`[click](${target})`);
      expect(
        parsed.every((node) => node.type !== 'link'),
        target,
      ).toBe(true);
      expect(textOf(parsed)).toBe(`[click](${target})`);
    }
  });

  it('autolinks bare URLs without trailing punctuation', () => {
    expect(parseInline('see https://example.org/x.')).toEqual([
      { type: 'text', text: 'see ' },
      {
        type: 'link',
        href: 'https://example.org/x',
        children: [{ type: 'text', text: 'https://example.org/x' }],
      },
      { type: 'text', text: '.' },
    ]);
    expect(parseInline('xhttps://example.org')).toEqual([
      { type: 'text', text: 'xhttps://example.org' },
    ]);
  });

  it('keeps HTML as text', () => {
    const payload = '<img src=x onerror=alert(1)><script>alert(1)</script>';
    expect(parseInline(payload)).toEqual([{ type: 'text', text: payload }]);
  });

  // Speed is for benchmarks; here it is enough that pathological runs of markers come back as
  // the literal text they are (a parser that backtracks would not finish within the test timeout).
  it('reads long runs of unmatched markers as plain text', () => {
    const hostile = '['.repeat(20_000) + '](';
    const text = parseInline(hostile)
      .map((node) => ('text' in node ? node.text : ''))
      .join('');
    expect(text).toBe(hostile);
    expect(() => parseInline('*_`['.repeat(20_000))).not.toThrow();
    expect(() => parseInline('**'.repeat(30_000))).not.toThrow();
  });

  it('stops nesting at a fixed depth', () => {
    const deep = '**_'.repeat(200) + 'x' + '_**'.repeat(200);
    expect(() => parseInline(deep)).not.toThrow();
  });
});

describe('parseMessage', () => {
  it('splits paragraphs on blank lines and keeps single newlines as breaks', () => {
    expect(parseMessage('one\ntwo\n\nthree')).toEqual([
      {
        type: 'paragraph',
        children: [{ type: 'text', text: 'one' }, { type: 'break' }, { type: 'text', text: 'two' }],
      },
      { type: 'paragraph', children: [{ type: 'text', text: 'three' }] },
    ]);
  });

  it('reads fenced code blocks literally, with an optional language', () => {
    expect(parseMessage('before\n```ts\nconst a = **1**;\n<b>\n```\nafter')).toEqual([
      { type: 'paragraph', children: [{ type: 'text', text: 'before' }] },
      { type: 'code-block', text: 'const a = **1**;\n<b>', language: 'ts' },
      { type: 'paragraph', children: [{ type: 'text', text: 'after' }] },
    ]);
  });

  it('treats an unclosed fence as text', () => {
    expect(parseMessage('```\ncode')).toEqual([
      {
        type: 'paragraph',
        children: [
          { type: 'text', text: '```' },
          { type: 'break' },
          { type: 'text', text: 'code' },
        ],
      },
    ]);
  });
});

describe('safeHref', () => {
  it('normalises allowed URLs and refuses the rest', () => {
    expect(safeHref('HTTPS://Example.org')).toBe('https://example.org/');
    expect(safeHref('http:///nohost')).toBe('http://nohost/');
    expect(safeHref('https://')).toBeUndefined();
    expect(safeHref('file:///etc/passwd')).toBeUndefined();
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('\u0000javascript:alert(1)')).toBeUndefined();
  });
});

describe('link labels', () => {
  it('hold no link of their own: the address written in a label stays text', () => {
    const [link] = parseInline(
      '[https://bank.example/login](https://evil.example/) and *[x](https://a.example)*',
    );
    expect(link).toEqual({
      type: 'link',
      href: 'https://evil.example/',
      children: [{ type: 'text', text: 'https://bank.example/login' }],
    });
    // However labels and emphasis are mixed, no link holds another.
    const linkInside = (nodes: ReturnType<typeof parseInline>, inLink: boolean): boolean =>
      nodes.some(
        (node) =>
          (node.type === 'link' && inLink) ||
          ('children' in node && linkInside(node.children, inLink || node.type === 'link')),
      );
    for (const source of [
      '[see [inner](https://b.example) **https://c.example**](https://a.example)',
      '[**https://c.example** and _https://d.example_](https://a.example)',
    ]) {
      expect(linkInside(parseInline(source), false), source).toBe(false);
    }
  });
});

function textOf(nodes: ReturnType<typeof parseInline>): string {
  return nodes
    .map((node) => {
      if (node.type === 'text' || node.type === 'code') return node.text;
      if (node.type === 'break') return '\n';
      return textOf(node.children);
    })
    .join('');
}
