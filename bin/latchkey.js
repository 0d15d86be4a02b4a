#!/usr/bin/env node
// Runs the bundle `npm run build` writes (dist/latchkey.js; `npm start` builds it first) while it is up to
// date, else the TypeScript sources directly through tsx, so `npx latchkey` never needs a build step and
// never runs stale code: the bundle counts only while it is newer than every file under src/ and than the
// last `npm install` (node_modules/.package-lock.json), whose dependencies it holds.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist', 'latchkey.js');

/** The newest modification time under `dir` (ms), walking it; 0 when it cannot be read. */
function newestUnder(dir) {
  let newest = 0;
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const time = entry.isDirectory() ? newestUnder(full) : fs.statSync(full, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (time > newest) newest = time;
  }
  return newest;
}

function bundleIsFresh() {
  const built = fs.statSync(bundle, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return false;
  const installed = fs.statSync(path.join(root, 'node_modules', '.package-lock.json'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return built > installed && built > newestUnder(path.join(root, 'src'));
}

if (process.env.LATCHKEY_FROM_SOURCE !== '1' && bundleIsFresh()) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
