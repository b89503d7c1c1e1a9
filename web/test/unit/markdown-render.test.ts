// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { renderMessage } from '../../src/lib/markdown';
import { misleadingLinkText } from '../../src/lib/markdown/render';

const ALLOWED_TAGS = new Set(['P', 'BR', 'STRONG', 'EM', 'CODE', 'PRE', 'A', 'SPAN']);

function render(source: string): HTMLElement {
  const host = document.createElement('div');
  host.append(renderMessage(source, document));
  return host;
}

function elements(host: HTMLElement): Element[] {
  return [...host.querySelectorAll('*')];
}

describe('renderMessage', () => {
  it('builds the expected elements', () => {
    const host = render('**bold** _it_ `code` [site](https://example.org)\n\n```\nblock\n```');
    expect(host.querySelector('strong')?.textContent).toBe('bold');
    expect(host.querySelector('em')?.textContent).toBe('it');
    expect(host.querySelector('p > code')?.textContent).toBe('code');
    expect(host.querySelector('pre > code')?.textContent).toBe('block');
    const link = host.querySelector('a')!;
    expect(link.getAttribute('href')).toBe('https://example.org/');
    expect(link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    expect(link.getAttribute('target')).toBe('_blank');
  });

  it.each([
    '<script>window.__pwned = true</script>',
    '<img src=x onerror="window.__pwned = true">',
    '<svg onload="window.__pwned = true"></svg>',
    '<a href="javascript:window.__pwned = true">x</a>',
    '[x](javascript:window.__pwned=true)',
    '**<b onclick="x()">bold</b>**',
    '```\n</code></pre><script>window.__pwned = true</script>\n```',
    '`<iframe src="javascript:alert(1)">`',
  ])('renders %j as text', (payload) => {
    const host = render(payload);
    for (const element of elements(host)) {
      expect(ALLOWED_TAGS.has(element.tagName), element.tagName).toBe(true);
      for (const attribute of element.getAttributeNames()) {
        expect(['href', 'title', 'rel', 'target', 'data-language', 'class']).toContain(attribute);
      }
      if (element.tagName === 'A') {
        expect(element.getAttribute('href')).toMatch(/^(https?|mailto):/);
      }
    }
    // Every character typed is shown (markdown markers aside).
    const shown = host.textContent ?? '';
    for (const fragment of ['script', 'onerror', 'onload', 'javascript', 'iframe', 'onclick']) {
      if (payload.includes(fragment)) expect(shown).toContain(fragment);
    }
    expect((window as unknown as { __pwned?: boolean }).__pwned).toBeUndefined();
  });
});

describe('links whose text is another address', () => {
  it('shows the real target beside text that reads as a different address', () => {
    const host = render('[https://bank.example/login](https://evil.example/steal)');
    const link = host.querySelector('a')!;
    expect(link.textContent).toBe('https://bank.example/login');
    expect(link.getAttribute('title')).toBe('https://evil.example/steal');
    expect(host.querySelector('.link-target')?.textContent).toBe(
      ' (goes to https://evil.example/steal)',
    );
  });

  it.each([
    ['www.bank.example', 'https://evil.example/', true],
    ['bank.example', 'https://bank.example.evil.example/', true],
    ['https://example.org/a', 'https://example.org/b', true],
    ['example.org', 'https://example.org/', false],
    ['https://example.org/docs/', 'https://example.org/docs', false],
    ['HTTP://Example.org', 'http://example.org/', false],
    ['our docs', 'https://evil.example/', false],
    ['mail me', 'mailto:someone@example.org', false],
  ])('%j linking to %j misleads: %s', (text, href, misleading) => {
    expect(misleadingLinkText(text, href)).toBe(misleading);
  });

  it('adds nothing to a link whose text is its own address, or plain words', () => {
    expect(render('<https://example.org/x>').querySelector('.link-target')).toBeNull();
    expect(render('[our docs](https://example.org/docs)').querySelector('.link-target')).toBeNull();
  });
});
