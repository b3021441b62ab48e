/**
 * The installable package (issue 9): `npm pack` makes a tarball that installs with
 * `npm install -g` into a prefix of its own, on a machine without the repository, and runs
 * `--help`, `example` and `verify` from there. Needs the npm registry for the dependencies, as
 * `npm ci` does.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers.js';

describe('the package', () => {
  it('npm pack, npm install -g into a fresh prefix, then --help, example and verify run from the installed command', { timeout: 300_000 }, () => {
    const t = tempDir();
    try {
      const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });
      npm(['pack', '--pack-destination', t.dir], ROOT);
      const tarball = readdirSync(t.dir).find((f) => f.endsWith('.tgz'));
      expect(tarball).toBeDefined();
      const prefix = join(t.dir, 'prefix');
      const away = join(t.dir, 'elsewhere'); // not the repository: nothing of it is on hand
      execFileSync('mkdir', ['-p', away]);
      npm(['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(t.dir, tarball!)], away);
      const bin = join(prefix, 'bin', 'ccin-tally');
      const sh = (args: string[]): { code: number; out: string } => {
        try {
          return { code: 0, out: execFileSync(bin, args, { cwd: away, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }) };
        } catch (e) {
          const err = e as { status: number; stdout: string };
          return { code: err.status, out: err.stdout };
        }
      };
      expect(sh(['--help']).out).toMatch(/Usage: ccin-tally/);
      const result = join(t.dir, 'result.json');
      const example = sh(['example', '--json', result]);
      expect(example.code).toBe(0);
      expect(example.out).toMatch(/DECLARATION OF RESULT/);
      const sheet = join(t.dir, 'sheet.txt');
      expect(sh(['example', '--tally-sheet', sheet, '--quiet']).code).toBe(0);
      expect(readFileSync(sheet, 'utf8').trimEnd().split('\n')).toHaveLength((JSON.parse(readFileSync(result, 'utf8')) as { turnout: { voted: number } }).turnout.voted);
      const ex = join(prefix, 'lib', 'node_modules', 'ccin-tally', 'fixtures', 'ccin-2024');
      const verify = sh(['verify', result, join(ex, 'mailbox'), '--election', join(ex, 'election.json'), '--roster', join(ex, 'roster.csv'), '--keys', join(ex, 'keys.zone'), '--issued', join(ex, 'issued', 'issued.csv'), '--adjudications', join(ex, 'adjudications.csv')]);
      expect(verify.out).toMatch(/^VERIFIED/);
      expect(verify.code).toBe(0);
    } finally {
      t.cleanup();
    }
  });
});
