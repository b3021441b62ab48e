/**
 * The declaration as a returning officer prints it (issue 9): rendered by a real headless browser
 * (Debian's chromium) to PDF, then checked — A4 pages, the declaration and the statement of rejected
 * papers on page one, nothing cut off, a footer on every page. `.ci/run` installs chromium and
 * poppler-utils (pdftotext) when missing; on a machine without them the test says so and skips,
 * except under CI, where it fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { run, tempDir } from './helpers.js';

const which = (cmd: string): string | null => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};
const CHROMIUM = process.env.CHROMIUM ?? which('chromium') ?? which('chromium-browser');
const PDFTOTEXT = which('pdftotext');
const available = CHROMIUM !== null && PDFTOTEXT !== null;
if (!available && process.env.CI) throw new Error('CI must have chromium and pdftotext: .ci/run installs them');

describe.skipIf(!available)('the printed declaration (headless chromium)', () => {
  it('A4, declaration and statement on page one, footer on every page, nothing cut off', async () => {
    const t = tempDir();
    try {
      const html = join(t.dir, 'declaration.html');
      const json = join(t.dir, 'result.json');
      const r = await run(['example', '--html', html, '--json', json, '--officer', 'Jane Smith', '--witness', 'Sam Patel']);
      expect(r.code).toBe(0);
      const pdf = join(t.dir, 'declaration.pdf');
      execFileSync(
        CHROMIUM!,
        ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(t.dir, 'profile')}`, '--no-pdf-header-footer', `--print-to-pdf=${pdf}`, html],
        { stdio: 'ignore', timeout: 60_000 },
      );
      expect(existsSync(pdf)).toBe(true);
      const doc = await PDFDocument.load(readFileSync(pdf));
      const pages = doc.getPages();
      for (const p of pages) {
        const { width, height } = p.getSize();
        expect([Math.round(width), Math.round(height)]).toEqual([595, 842]); // A4 in points
      }
      const text = (page: number): string => execFileSync(PDFTOTEXT!, ['-f', String(page), '-l', String(page), '-layout', pdf, '-'], { encoding: 'utf8' });
      const result = JSON.parse(readFileSync(json, 'utf8')) as { digest: string; election: { id: string }; tally: { name: string }[]; summary: { rejected: Record<string, number> } };
      const one = text(1);
      for (const s of [
        'DECLARATION OF RESULT OF POLL',
        'I, Jane Smith, the Returning Officer',
        'Statement of rejected ballot papers',
        '(a) want of an official mark',
        '(d) being unmarked or wholly void for uncertainty',
        'Total rejected',
        'Cllr Jason Williams is duly elected',
        'Signed: Returning Officer — Jane Smith',
        'Witness or scrutineer — Sam Patel',
        ...result.tally.map((x) => x.name),
        ...Object.keys(result.summary.rejected),
      ]) {
        expect(one, s).toContain(s);
      }
      // The whole digest, unbroken, in the text and in the footer: nothing cut off at the margin.
      expect(one.split(result.digest).length - 1).toBeGreaterThanOrEqual(2);
      // The first section is exactly one page: the next begins on page two.
      expect(text(2)).toMatch(/^\s*Read before declaring/);
      for (let i = 1; i <= pages.length; i++) expect(text(i)).toContain(`Page ${i} of ${pages.length}`);
      expect(text(pages.length)).toContain(`${result.election.id} · ${result.digest}`);
    } finally {
      t.cleanup();
    }
  });
});
