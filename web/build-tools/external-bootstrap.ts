// The static adapter with one change: SvelteKit writes the script that boots the app inline into
// index.html, and Parley's Content-Security-Policy (script-src 'self' 'wasm-unsafe-eval', no
// 'unsafe-inline') blocks inline scripts. This moves that script into a content-hashed file under
// _app/immutable/ and points a classic <script src> at it. It stays a classic script (not a module)
// because the bootstrap finds its mount point through document.currentScript, which module scripts
// do not set. Then every file is precompressed (brotli and gzip beside it), after the rewrite so
// that index.html's compressed copies match it; the server sends them to browsers that accept them.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import staticAdapter from '@sveltejs/adapter-static';
import type { Adapter } from '@sveltejs/kit';

const INLINE_SCRIPT = /<script>([\s\S]*?)<\/script>/g;

export function staticAdapterWithExternalBootstrap(options: {
  pages?: string;
  fallback: string;
}): Adapter {
  const inner = staticAdapter(options);
  return {
    name: 'parley-static-external-bootstrap',
    async adapt(builder) {
      await inner.adapt(builder);
      const pages = options.pages ?? 'build';
      const file = join(pages, options.fallback);
      const html = readFileSync(file, 'utf8');
      const scripts = [...html.matchAll(INLINE_SCRIPT)];
      const [script] = scripts;
      if (script === undefined || scripts.length !== 1) {
        throw new Error(
          `external-bootstrap: expected one inline script in ${file}, found ${scripts.length}`,
        );
      }
      const code = (script[1] ?? '').trim();
      const hash = createHash('sha256').update(code).digest('hex').slice(0, 12);
      const name = `${builder.config.appDir}/immutable/bootstrap.${hash}.js`;
      writeFileSync(join(pages, name), `${code}\n`);
      writeFileSync(file, html.replace(script[0], `<script src="/${name}"></script>`));
      builder.log.minor(`moved the inline bootstrap script to ${name}`);
      await builder.compress(pages);
    },
  };
}
