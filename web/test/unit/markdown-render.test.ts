// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { renderMessage } from '../../src/lib/markdown';

const ALLOWED_TAGS = new Set(['P', 'BR', 'STRONG', 'EM', 'CODE', 'PRE', 'A']);

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
        expect(['href', 'rel', 'target', 'data-language']).toContain(attribute);
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
