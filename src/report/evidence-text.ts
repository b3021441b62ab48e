import { canonicalJsonOfData as canonical } from '../model/canonical.js';
import type { FindingRecord, MessageRecord, RenderedForm } from '../model/result.js';

/**
 * A message's evidence written out once, as soon as a large count has judged the message, as the
 * text the result file and its digest will hold: so that a count of any size keeps no message's
 * evidence in memory, and never works it out twice. Only what the count itself adds
 * (its findings, duplicateOf, supersededBy, and for a copy of another message the parts a copy is
 * not judged on) is filled in when the result is written.
 *
 * The text is exactly what `JSON.stringify(record, null, 2)` inside writeJson's layout, and the
 * canonical JSON of the digest, would give for the same evidence: `composeRecord` puts the pieces
 * together, and test/scale.test.ts checks it byte for byte against the whole-object path.
 */
export interface EvidenceText {
  /** As writeJson lays it out. */
  pretty: EvidenceForm;
  /** As the digest's canonical JSON has it. */
  canonical: EvidenceForm;
}

/**
 * The evidence in one form. Each form is kept (spilled) apart, so that the result file, and the
 * digest, each read back only the text they write.
 */
export interface EvidenceForm {
  /** The evidence keys in their order, each with its value's text; findings as one text per finding. */
  judged: EvidencePiece[];
  /** For a copy of another message (not judged): the values that come from a judgement (JUDGED_EVIDENCE), as a copy shows them. */
  copy: EvidencePiece[];
}

/** [key, text]; for "findings", one text per finding (the count adds its own after them). */
export type EvidencePiece = [key: string, text: string | string[]];

type Evidence = MessageRecord['evidence'];

/**
 * One form of a message's evidence as one string, for the spill file: its pieces joined by the ASCII
 * separators (file, group, record and unit separator, U+001C–U+001F), which no JSON text holds raw
 * (JSON.stringify writes every character below U+0020 as an escape), so the text is neither escaped
 * again nor parsed when it comes back: JSON inside JSON took 2.0 s to write and 1.0 s to read over a
 * count of 100,000 messages (profiled), joining and splitting about a tenth of that.
 */
export function encodeEvidenceForm(form: EvidenceForm): string {
  return `${encodePieces(form.judged)}${FS}${encodePieces(form.copy)}`;
}

/** The evidence in one form back from encodeEvidenceForm's string. */
export function decodeEvidenceForm(text: string): EvidenceForm {
  const cut = text.indexOf(FS);
  if (cut < 0) throw new Error('internal: a spilled evidence record has no separator');
  return { judged: decodePieces(text.slice(0, cut)), copy: decodePieces(text.slice(cut + 1)) };
}

const FS = '\u001c';
const GS = '\u001d';
const RS = '\u001e';
const US = '\u001f';
const SEPARATOR = /[\u001c-\u001f]/;

function encodePieces(pieces: readonly EvidencePiece[]): string {
  return pieces
    .map(([key, text]) => {
      // Never so for JSON text: a piece that held one would come back cut in two.
      if (SEPARATOR.test(key) || (typeof text === 'string' ? SEPARATOR.test(text) : text.some((t) => SEPARATOR.test(t)))) {
        throw new Error(`internal: evidence piece ${JSON.stringify(key)} holds a separator`);
      }
      // A finding's text is never empty (an object's JSON), so an empty list is the empty string.
      return `${key}${US}${typeof text === 'string' ? text : text.join(GS)}`;
    })
    .join(RS);
}

function decodePieces(text: string): EvidencePiece[] {
  if (text === '') return [];
  return text.split(RS).map((piece) => {
    const cut = piece.indexOf(US);
    const key = piece.slice(0, cut);
    const value = piece.slice(cut + 1);
    return [key, key === 'findings' ? (value === '' ? [] : value.split(GS)) : value];
  });
}


/** writeJson nests a message's evidence values this deep: messages (4) + record (2) + evidence (2). */
const VALUE_INDENT = '        ';
/** And each finding one level deeper. */
const ITEM_INDENT = VALUE_INDENT + '  ';

/** The keys the count fills in itself when the result is written. */
const COUNT_KEYS = new Set(['duplicateOf', 'supersededBy']);

/** A value as JSON.stringify(v, null, 2) lays it out, its lines after the first indented by `indent` (a scalar has only one). */
const pretty = (v: unknown, indent: string): string => (v === null || typeof v !== 'object' ? JSON.stringify(v) : JSON.stringify(v, null, 2).replaceAll('\n', '\n' + indent));

function pieces(evidence: Partial<Evidence>): { pretty: EvidencePiece[]; canonical: EvidencePiece[] } {
  const out = { pretty: [] as EvidencePiece[], canonical: [] as EvidencePiece[] };
  for (const [key, value] of Object.entries(evidence)) {
    if (value === undefined) continue; // as JSON.stringify leaves it out
    if (COUNT_KEYS.has(key)) {
      out.pretty.push([key, '']);
      out.canonical.push([key, '']);
      continue;
    }
    if (key === 'findings') {
      const items = value as FindingRecord[];
      out.pretty.push([key, items.map((f) => pretty(f, ITEM_INDENT))]);
      out.canonical.push([key, items.map((f) => canonical(f))]);
      continue;
    }
    out.pretty.push([key, pretty(value, VALUE_INDENT)]);
    out.canonical.push([key, canonical(value)]);
  }
  return out;
}

/**
 * The text of a message's evidence as judged, and of the values a copy of another message shows in
 * place of the judged ones (`copy`: the evidence with no judgement; only `copyKeys`, the values that
 * depend on the judgement, are written out again), in both forms. Both are given with no count
 * findings and with duplicateOf and supersededBy unset; the count sets those.
 */
export function renderEvidence(judged: Evidence, copy: Evidence, copyKeys: readonly (keyof Evidence)[]): EvidenceText {
  const j = pieces(judged);
  const c = pieces(Object.fromEntries(copyKeys.map((k) => [k, copy[k]])));
  return { pretty: { judged: j.pretty, copy: c.pretty }, canonical: { judged: j.canonical, copy: c.canonical } };
}

/** What the count adds to a message's evidence. */
export interface CountEvidence {
  /** Judged (false: a copy of another message, shown unjudged). */
  judged: boolean;
  findings: readonly FindingRecord[];
  duplicateOf: string | null;
  supersededBy: string | null;
}

function evidenceValues(text: EvidenceForm, add: CountEvidence, form: 'pretty' | 'canonical'): { key: string; text: string }[] {
  const override = add.judged ? null : new Map(text.copy.map((p) => [p[0], p]));
  return text.judged.map((base) => {
    const piece = override?.get(base[0]) ?? base;
    const key = piece[0];
    if (key === 'findings') {
      const items = [...(piece[1] as string[]), ...add.findings.map((f) => (form === 'pretty' ? pretty(f, ITEM_INDENT) : canonical(f)))];
      if (form === 'canonical') return { key, text: `[${items.join(',')}]` };
      return { key, text: items.length === 0 ? '[]' : `[\n${ITEM_INDENT}${items.join(`,\n${ITEM_INDENT}`)}\n${VALUE_INDENT}]` };
    }
    if (key === 'duplicateOf') return { key, text: JSON.stringify(add.duplicateOf) };
    if (key === 'supersededBy') return { key, text: JSON.stringify(add.supersededBy) };
    return { key, text: piece[1] as string };
  });
}

const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * A whole message record from its fields (`core`, everything but the evidence) and its evidence
 * text in one form: as writeJson lays the record out (`pretty`, starting at the record's "{"), as
 * the digest's canonical JSON (`canonical`), or the evidence object alone (`evidence`, from the
 * pretty text). `text` is the evidence in that form (the canonical one for `canonical`, else the
 * pretty one): the result file and the digest each read back only their own.
 */
export function composeRecord(core: Omit<MessageRecord, 'evidence'>, text: EvidenceForm, add: CountEvidence, form: RenderedForm): string {
  const values = evidenceValues(text, add, form === 'canonical' ? 'canonical' : 'pretty');
  if (form !== 'canonical') {
    const evidence = `{\n${values.map((v) => `${VALUE_INDENT}${JSON.stringify(v.key)}: ${v.text}`).join(',\n')}\n      }`;
    if (form === 'evidence') return evidence;
    const head = pretty(core, '    ');
    return `${head.slice(0, -'\n    }'.length)},\n      "evidence": ${evidence}\n    }`;
  }
  const fields = Object.entries(core)
    .filter(([, v]) => v !== undefined)
    .map(([key, v]) => ({ key, text: canonical(v) }));
  fields.push({ key: 'evidence', text: `{${values.sort(byKey).map((v) => `${JSON.stringify(v.key)}:${v.text}`).join(',')}}` });
  return `{${fields.sort(byKey).map((f) => `${JSON.stringify(f.key)}:${f.text}`).join(',')}}`;
}
