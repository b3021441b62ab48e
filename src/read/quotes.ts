/**
 * Separates what the sender wrote from what they quoted or forwarded. Only the sender's own text
 * can hold their vote; quoted reply text never does, and a forwarded original goes to adjudication.
 */
export interface ForwardedHeader {
  from: string | null;
  date: string | null;
  subject: string | null;
}

export interface SplitText {
  own: string;
  /** Reply quotations: ">" lines and text below "On … wrote:" or a reply header block. */
  quoted: string;
  /** Text below a forwarding marker, with the forwarded message's header as written. */
  forwarded: { text: string; header: ForwardedHeader; marker: string } | null;
  /** The line that started the quoted part, for evidence. */
  marker: string | null;
}

const FORWARD_MARKERS = [
  /^-{2,}\s*forwarded message\s*-{2,}$/i,
  /^begin forwarded message\s*:?$/i,
  /^-{2,}\s*forwarded by .*-{2,}$/i,
  /^-{2,}\s*forwarded mail\s*-{2,}$/i,
];
const ORIGINAL_MESSAGE = /^-{2,}\s*original message\s*-{2,}$/i;
const ON_WROTE_END = /wrote\s*:\s*$/i;
const OUTLOOK_RULE = /^_{10,}$/;
const HEADER_LINE = /^\*?(from|sent|date|to|cc|subject)\s*:\*?\s*(.*)$/i;

export function isForwardSubject(subject: string | null): boolean {
  return subject !== null && /^\s*(?:(?:re|aw)\s*:\s*)*(?:fwd?|fw|tr|wg)\s*:/i.test(subject);
}

/** True when lines[i…] open an Outlook-style header block ("From: … Sent: … To: … Subject: …"). */
function headerBlockAt(lines: readonly string[], i: number): boolean {
  const first = HEADER_LINE.exec((lines[i] ?? '').trim());
  if (!first || first[1]?.toLowerCase() !== 'from') return false;
  const seen = new Set<string>();
  for (let j = i + 1; j < Math.min(lines.length, i + 8); j++) {
    const m = HEADER_LINE.exec((lines[j] ?? '').trim());
    if (m) seen.add((m[1] ?? '').toLowerCase());
  }
  return (seen.has('sent') || seen.has('date')) && (seen.has('to') || seen.has('subject'));
}

function readForwardHeader(lines: readonly string[]): ForwardedHeader {
  const h: ForwardedHeader = { from: null, date: null, subject: null };
  for (const line of lines.slice(0, 12)) {
    const m = HEADER_LINE.exec(line.trim());
    if (!m) continue;
    const key = (m[1] ?? '').toLowerCase();
    const value = (m[2] ?? '').trim();
    if (key === 'from' && h.from === null) h.from = value;
    else if ((key === 'date' || key === 'sent') && h.date === null) h.date = value;
    else if (key === 'subject' && h.subject === null) h.subject = value;
  }
  return h;
}

export function splitQuoted(text: string, subject: string | null): SplitText {
  const lines = text.split('\n');
  const forwardSubject = isForwardSubject(subject);
  let cut = -1;
  let kind: 'reply' | 'forward' = 'reply';
  let skip = 1;
  for (let i = 0; i < lines.length; i++) {
    const t = (lines[i] ?? '').trim();
    if (t.startsWith('>')) continue;
    if (FORWARD_MARKERS.some((re) => re.test(t))) {
      cut = i;
      kind = 'forward';
      break;
    }
    if (ORIGINAL_MESSAGE.test(t) || (OUTLOOK_RULE.test(t) && headerBlockAt(lines, i + 1))) {
      cut = i;
      kind = forwardSubject ? 'forward' : 'reply';
      break;
    }
    if (headerBlockAt(lines, i)) {
      cut = i;
      skip = 0;
      kind = forwardSubject ? 'forward' : 'reply';
      break;
    }
    // "On Thu, 1 Feb 2024 at 10:02, Someone <a@b> wrote:" — often wrapped over two or three lines.
    if (/^on\s/i.test(t)) {
      for (let j = i; j < Math.min(lines.length, i + 3); j++) {
        if (ON_WROTE_END.test((lines[j] ?? '').trim())) {
          cut = i;
          skip = j - i + 1;
          break;
        }
      }
      if (cut >= 0) break;
    }
  }
  const head = cut >= 0 ? lines.slice(0, cut) : lines;
  const own = head.filter((l) => !l.trim().startsWith('>')).join('\n');
  const quotedInline = head.filter((l) => l.trim().startsWith('>')).join('\n');
  if (cut < 0) return { own, quoted: quotedInline, forwarded: null, marker: null };
  const rest = lines.slice(cut + skip);
  const marker = (lines[cut] ?? '').trim();
  if (kind === 'forward') {
    return {
      own,
      quoted: quotedInline,
      forwarded: { text: rest.join('\n'), header: readForwardHeader(rest), marker },
      marker,
    };
  }
  return { own, quoted: [quotedInline, rest.join('\n')].filter((s) => s.length > 0).join('\n'), forwarded: null, marker };
}
