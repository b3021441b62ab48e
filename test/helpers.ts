import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main, type CliIo } from '../src/cli/main.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const EXAMPLE = join(ROOT, 'fixtures', 'ccin-2024');
export const ELECTION = join(EXAMPLE, 'election.json');
export const ROSTER = join(EXAMPLE, 'roster.csv');
export const MAILBOX = join(EXAMPLE, 'mailbox');
export const ADJUDICATIONS = join(EXAMPLE, 'adjudications.csv');
export const KEYS = join(EXAMPLE, 'keys.zone');
export const ISSUED = join(EXAMPLE, 'issued', 'issued.csv');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, as a user would from a shell, and captures what it prints. */
export async function run(argv: string[], env: Record<string, string | undefined> = {}, tty = false): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env,
    stdoutIsTTY: tty,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ccin-tally-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A minimal RFC 5322 message for unit tests of the reader (fixtures made by real mail tooling live in fixtures/). */
export function eml(opts: {
  from?: string;
  subject?: string;
  date?: string;
  received?: string[];
  headers?: string[];
  body: string;
  contentType?: string;
  messageId?: string;
}): Buffer {
  const lines = [
    ...(opts.received ?? ['from mail.example by mx.ccin.example (Postfix); Wed, 31 Jan 2024 10:00:03 +0000']).map((r) => `Received: ${r}`),
    `From: ${opts.from ?? 'Cllr Elliot Kirkland <leader@north-herts.gov.uk>'}`,
    'To: ballots@ccin.example',
    `Subject: ${opts.subject ?? 'Ballot'}`,
    ...(opts.date === '' ? [] : [`Date: ${opts.date ?? 'Wed, 31 Jan 2024 10:00:00 +0000'}`]),
    `Message-ID: ${opts.messageId ?? '<test@north-herts.gov.uk>'}`,
    'MIME-Version: 1.0',
    `Content-Type: ${opts.contentType ?? 'text/plain; charset=utf-8'}`,
    ...(opts.headers ?? []),
    '',
    opts.body,
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

export function paperText(marks: { willoughby?: string; williams?: string; alty?: string }, sign: { name?: string; position?: string; council?: string } = {}): string {
  return [
    'CCIN BALLOT PAPER',
    'Election: Values & Principles Board: VP Membership',
    'Ballot reference: CCIN-VPB-2024-7KQ2M9XD',
    `Council: ${sign.council ?? 'North Hertfordshire District Council'}`,
    '',
    'Vote for ONE candidate only. Put a cross (X) in the box next to your choice.',
    '',
    `[${marks.willoughby ?? ' '}] Cllr Alistair Willoughby (North Hertfordshire District Council)`,
    `[${marks.williams ?? ' '}] Cllr Jason Williams (Westminster City Council)`,
    `[${marks.alty ?? ' '}] Cllr Jacky Alty (South Ribble Borough Council)`,
    '',
    'Signed off by the Council Leader or Mayor',
    `Name: ${sign.name ?? 'Cllr Elliot Kirkland'}`,
    `Position: ${sign.position ?? 'Leader'}`,
    'Date: 31/01/2024',
    '',
  ].join('\n');
}
