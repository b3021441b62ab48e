/**
 * The bundle the command runs (dist/ccin-tally.cjs, made by `npm run build` through
 * scripts/bundle.mjs) and its code cache: the same program as the sources, and a cache taken only
 * for the very bytes it was made from.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, run, tempDir } from './helpers.js';

const BIN = join(ROOT, 'bin', 'ccin-tally');
const BUNDLE = join(ROOT, 'dist', 'ccin-tally.cjs');
const LOADER = join(ROOT, 'bin', 'load-bundle.cjs');

/** In a fresh Node (no flag of the test runner's): loads `bundle`, runs `ccin-tally --help`, says whether the cache was taken. */
function loadInChild(bundle: string): { cached: boolean; help: string } {
  const script = `const r = require(${JSON.stringify(LOADER)}).loadBundle(${JSON.stringify(bundle)});
    let help = '';
    r.exports.main(['--help'], { stdout: (s) => (help += s), stderr: (s) => (help += s), env: {}, stdoutIsTTY: false })
      .then((code) => process.stdout.write(JSON.stringify({ cached: r.cached, help, code })));`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })) as { cached: boolean; help: string; code: number };
  expect(out.code).toBe(0);
  return out;
}

/** A copy of the bundle and its cache in a package of its own (the bundle finds package.json above it). */
function copyOfBundle(dir: string): string {
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'package.json'), readFileSync(join(ROOT, 'package.json')));
  const copy = join(dir, 'dist', 'ccin-tally.cjs');
  copyFileSync(BUNDLE, copy);
  copyFileSync(`${BUNDLE}.cache`, `${copy}.cache`);
  return copy;
}

describe('the bundled command', () => {
  it('counts the example as the sources do: the same terminal report, byte for byte the same JSON', async () => {
    const t = tempDir();
    try {
      const fromBundle = join(t.dir, 'bundle.json');
      const fromSources = join(t.dir, 'sources.json');
      const terminal = execFileSync(BIN, ['example', '--json', fromBundle], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', NODE_OPTIONS: '' } });
      const r = await run(['example', '--json', fromSources], { NO_COLOR: '1' });
      expect(r.code).toBe(0);
      expect(terminal).toBe(r.stdout);
      expect(readFileSync(fromBundle).equals(readFileSync(fromSources))).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it('runs the compiled modules, not a bundle older than tsc\'s last build of dist/', () => {
    const t = tempDir();
    try {
      // A package of its own: bin/ and the bundle copied, the rest of dist/ linked to the real one.
      mkdirSync(join(t.dir, 'bin'));
      for (const f of ['ccin-tally', 'load-bundle.cjs']) copyFileSync(join(ROOT, 'bin', f), join(t.dir, 'bin', f));
      const copy = copyOfBundle(t.dir);
      for (const entry of readdirSync(join(ROOT, 'dist'))) {
        if (!entry.startsWith('ccin-tally.cjs') && entry !== '.tsbuildinfo') symlinkSync(join(ROOT, 'dist', entry), join(t.dir, 'dist', entry));
      }
      // The bundle says COUNT where the compiled modules say count: which of them ran shows in --help.
      writeFileSync(copy, readFileSync(copy, 'utf8').replace('count the bundled 2024 example election', 'COUNT the bundled 2024 example election'));
      const info = join(t.dir, 'dist', '.tsbuildinfo');
      writeFileSync(info, '{}');
      const help = (): string => execFileSync(join(t.dir, 'bin', 'ccin-tally'), ['--help'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
      const now = Date.now() / 1000;
      utimesSync(info, now - 60, now - 60);
      utimesSync(copy, now, now);
      expect(help()).toMatch(/COUNT the bundled/);
      utimesSync(info, now + 60, now + 60);
      expect(help()).toMatch(/count the bundled/);
      // An installed package has no .tsbuildinfo: its bundle is what it runs.
      rmSync(info);
      expect(help()).toMatch(/COUNT the bundled/);
    } finally {
      t.cleanup();
    }
  });

  it('with source maps on, names lines of src/ in an internal error\'s stack', () => {
    const script = `const b = require(${JSON.stringify(LOADER)}).loadBundle(${JSON.stringify(BUNDLE)});
      let err = '';
      b.exports.main(null, { stdout: () => {}, stderr: (s) => (err += s), env: {}, stdoutIsTTY: false }).then((code) => process.stdout.write(JSON.stringify({ code, err, cached: b.cached })));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '--enable-source-maps' } })) as { code: number; err: string; cached: boolean };
    expect(out.code).toBe(1);
    expect(out.err).toMatch(/internal error/);
    expect(out.err).toMatch(/src\/cli\/main\.ts:\d+/);
  });

  it('starts from the code cache the build made for it', () => {
    expect(loadInChild(BUNDLE).cached).toBe(true);
  });

  it('never takes a cache made for other bytes, even of the same length: it compiles the bundle afresh', () => {
    const t = tempDir();
    try {
      const copy = copyOfBundle(t.dir);
      const original = loadInChild(copy);
      expect(original.cached).toBe(true);
      expect(original.help).toMatch(/count the bundled 2024 example election/);
      // One word changed, the length kept: V8 would take the old cache (it checks a source's length only),
      // and run the old code.
      const text = readFileSync(copy, 'utf8');
      expect(text).toContain('count the bundled 2024 example election');
      writeFileSync(copy, text.replace('count the bundled 2024 example election', 'COUNT the bundled 2024 example election'));
      const edited = loadInChild(copy);
      expect(edited.cached).toBe(false);
      expect(edited.help).toMatch(/COUNT the bundled 2024 example election/);
      // A cut-short cache, and none at all, are left unused too.
      writeFileSync(copy, text);
      writeFileSync(`${copy}.cache`, readFileSync(`${copy}.cache`).subarray(0, 20));
      expect(loadInChild(copy)).toMatchObject({ cached: false, help: expect.stringMatching(/count the bundled 2024 example election/) });
      rmSync(`${copy}.cache`);
      expect(loadInChild(copy).cached).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});
