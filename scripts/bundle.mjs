// The last step of `npm run build`, after tsc has compiled src/ into dist/: bundles the command into
// one CommonJS file, dist/ccin-tally.cjs, and makes V8's code cache for it (dist/ccin-tally.cjs.cache)
// by counting the bundled example once, so that the command starts without loading some 300 modules
// one by one and compiling them again at every run (the example end to end: 0.76 s to 0.5 s).
//
//   node scripts/bundle.mjs            bundle, then make the cache in a fresh process
//   node scripts/bundle.mjs --cache    (that process) run the example from the bundle, write the cache
//
// The bundle is the compiled modules of dist/ as they are, with the libraries they import, without
// blanks (names are kept). The reader threads still run dist/read/worker.js. bin/ccin-tally runs the bundle when
// it is there and falls back to dist/cli/main.js, then to the sources.
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
const BUNDLE = join(DIST, 'ccin-tally.cjs');
const CACHE = `${BUNDLE}.cache`;

/** Writes a file whole or not at all: a command starting meanwhile reads the old cache or none. */
function writeWhole(path, bytes) {
  const part = `${path}.${process.pid}.part`;
  writeFileSync(part, bytes);
  renameSync(part, path);
}

if (process.argv.includes('--cache')) {
  const { loadBundle } = createRequire(import.meta.url)('../bin/load-bundle.cjs');
  const { exports, makeCache } = loadBundle(BUNDLE);
  let out = '';
  const io = { stdout: (s) => (out += s), stderr: (s) => (out += s), env: { NO_COLOR: '1' }, stdoutIsTTY: false };
  // The example exercises every reader (DKIM, PDF, Word, .msg, mbox, Maildir) and every report the
  // terminal shows: what it compiles is what a count compiles.
  const code = await exports.main(['example', '--quiet'], io);
  if (code !== 0) throw new Error(`the bundled example ended with exit code ${code}:\n${out.slice(-2000)}`);
  writeWhole(CACHE, makeCache());
} else {
  const { build } = await import('esbuild');
  // import.meta.url, which no CommonJS file has, becomes the URL the module has in dist/ (the bundle
  // sits in dist/), so that main.js finds the package root and pool.js its worker as they do unbundled.
  const moduleUrls = {
    name: 'module-urls',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(DIST)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta')) return undefined;
        const rel = relative(DIST, args.path).split('\\').join('/');
        const contents = text.replaceAll('import.meta.url', `__ccinModuleUrl(${JSON.stringify(rel)})`);
        if (contents.includes('import.meta')) return { errors: [{ text: `${rel}: only import.meta.url can be bundled` }] };
        return { contents, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
  const result = await build({
    entryPoints: [join(DIST, 'cli', 'main.js')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: 'const __ccinModuleUrl = (p) => require("node:url").pathToFileURL(require("node:path").join(__dirname, p)).href;' },
    plugins: [moduleUrls],
    logLevel: 'silent',
    // Blanks and redundant syntax dropped (a smaller file to read at each start); every name is kept,
    // and the source map leads a stack trace back to src/ (node --enable-source-maps).
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
  });
  // A warning (import.meta where a library keeps it, say) would be a bundle that does not run as dist/ does.
  if (result.warnings.length > 0) throw new Error(`bundling warned:\n${result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`).join('\n')}`);
  rmSync(CACHE, { force: true });
  // In a process of its own: the cache is of what a fresh start compiles, with no flag of this one
  // nor of NODE_OPTIONS (V8 takes a cache only under the flags it was made with, and the command
  // starts as plain `node`). It runs the example from the bundle: a bundle that cannot count it
  // fails the build.
  execFileSync(process.execPath, [import.meta.filename, '--cache'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
}
