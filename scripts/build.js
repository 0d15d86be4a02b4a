#!/usr/bin/env node
// `npm run build` (also run by `npm start` through `prestart`): bundles the CLI and server, with the
// JavaScript dependencies, into dist/latchkey.js with esbuild (installed with tsx). Loading one
// pre-compiled file instead of ~1500 modules through tsx's TypeScript hooks is what makes `latchkey start`
// ready in well under a second. bin/latchkey.js runs this bundle only while it is newer than every file in
// src/ and than the last `npm install`; otherwise it runs the sources through tsx, as the tests always do.
//
// Native modules stay outside the bundle and load from node_modules. Files that src/ reads next to
// itself (`new URL('./x', import.meta.url)`: the common-password list, the CSS) are still read from src/:
// inside the bundle, `import.meta.url` is rewritten to the URL of the source file that used it.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist', 'latchkey.js');

/** `import.meta.url` in a source file → that source file's own URL, computed relative to the bundle. */
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const relative = path.relative(path.dirname(outfile), args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

const started = performance.now();
await build({
  entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Native addons (and pg's optional native binding) load from node_modules at run time.
  external: ['better-sqlite3', '@node-rs/argon2', 'pg-native'],
  // CommonJS dependencies inside an ES module bundle still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __latchkeyRequire } from 'node:module';\nconst require = __latchkeyRequire(import.meta.url);" },
  plugins: [sourceUrls],
  // Less to read and parse at every start; identifiers keep their names, so stack traces stay readable.
  minifyWhitespace: true,
  // Bundling renames clashing classes (IdToken → IdToken2); oidc-provider reads its models' names
  // (`ttl[this.name]`), so without this the token endpoint fails with "ttl is not a function".
  keepNames: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});
process.stderr.write(`latchkey: built ${path.relative(process.cwd(), outfile) || outfile} in ${Math.round(performance.now() - started)} ms\n`);
