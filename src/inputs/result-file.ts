import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import chain from 'stream-chain';
import { parser } from 'stream-json';
import { replace } from 'stream-json/filters/replace.js';
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import { streamValues } from 'stream-json/streamers/stream-values.js';
import { writeCanonical } from '../model/canonical.js';
import { InputError } from '../model/errors.js';
import { RESULT_SCHEMA } from '../model/result.js';
import { inputFileSize, loadInputFile } from './files.js';
import { lineOfPath, readJsonFile } from './json-locate.js';

/** What `verify` needs of a result file besides its messages; the rest is compared through the digest. */
const TopSchema = z.looseObject({
  schema: z.literal(RESULT_SCHEMA),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  inputs: z.looseObject({
    election: z.looseObject({ file: z.string(), sha256: z.string() }),
    roster: z.looseObject({ file: z.string(), sha256: z.string() }),
    adjudications: z.looseObject({ file: z.string(), sha256: z.string() }).nullable(),
    mailbox: z.array(z.looseObject({ file: z.string(), sha256: z.string() })),
  }),
  tally: z.array(z.looseObject({ candidate: z.string(), votes: z.number(), elected: z.boolean() })),
  turnout: z.looseObject({ voted: z.number(), eligible: z.number() }),
  final: z.boolean(),
});

const MessageSchema = z.looseObject({
  sha256: z.string(),
  source: z.looseObject({ file: z.string(), index: z.number().nullable() }),
  disposition: z.string(),
  reason: z.string().nullable(),
  choices: z.array(z.string()),
});
export type ClaimedMessage = z.infer<typeof MessageSchema>;

/** A result file as `verify` reads it: never held whole, so a result of any size is checked in a small memory. */
export interface ResultFile {
  /** Every top-level field but `messages`. */
  top: z.infer<typeof TopSchema> & Record<string, unknown>;
  /** What each message says, in the file's order, without its evidence (which the digest covers). */
  messages: ClaimedMessage[];
  /** "sha256:<hex>" of the canonical JSON of the file's content without its digest field: what its digest should be. */
  contentDigest: string;
}

type Sink = (s: string) => void;

const own = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/**
 * Reads a result file twice as a stream (stream-json): once for everything but the messages, once
 * for the messages one at a time, hashing the canonical JSON as it goes. Only the figures `verify`
 * compares are kept of each message. A file that is not JSON, or not a result, is an input error
 * naming its line (found by reading the file whole, only then, when it is small enough).
 */
export async function readResultFile(path: string, options: { locateUpTo?: number } = {}): Promise<ResultFile> {
  const locateUpTo = options.locateUpTo ?? LOCATE_UP_TO;
  const size = await inputFileSize(path, 'result');
  const skip = (await startsWithBom(path)) ? 3 : 0;
  // Packed values only, no piece-by-piece string tokens: fewer tokens (each value is assembled whole either way).
  const tokens = (): ReturnType<typeof chain> => chain([createReadStream(path, { start: skip }), parser({ streamValues: false })]);
  let topValue: unknown;
  try {
    const values: unknown[] = [];
    for await (const v of chain([tokens(), replace({ filter: 'messages', replacement: { name: 'nullValue', value: null } }), streamValues()])) values.push((v as { value: unknown }).value);
    if (values.length !== 1) throw new Error(values.length === 0 ? 'the file holds no JSON value' : 'the file holds more than one JSON value');
    topValue = values[0];
  } catch (e) {
    return await failWhole(path, size, locateUpTo, e as Error);
  }
  // Pass one reads the messages as null (stream-json's replace): they must be there, and are read in pass two.
  const top = TopSchema.extend({ messages: z.null() }).safeParse(topValue);
  if (!top.success) return await failWhole(path, size, locateUpTo, top.error);
  const { digest: _claimed, ...rest } = top.data as Record<string, unknown>;
  // The digest is of the content with its keys sorted: the messages go in at their place among them.
  const keys = Object.keys(rest).sort();
  const hash = createHash('sha256');
  let pending = '';
  const write: Sink = (s) => {
    pending += s;
    if (pending.length >= 1 << 16) {
      hash.update(pending, 'utf8');
      pending = '';
    }
  };
  const messages: ClaimedMessage[] = [];
  write('{');
  let first = true;
  for (const key of keys) {
    write(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (key !== 'messages') {
      writeCanonical(rest[key], write);
      continue;
    }
    write('[');
    try {
      for await (const item of chain([tokens(), pick({ filter: 'messages' }), streamArray()])) {
        const { key: index, value } = item as { key: number; value: unknown };
        const m = MessageSchema.safeParse(value);
        if (!m.success) {
          const issue = m.error.issues[0];
          throw new InputError('RESULT_INVALID', { file: path, field: ['messages', index, ...(issue?.path ?? [])].map(String).join('.') }, `not a ${RESULT_SCHEMA} result: ${issue?.message ?? 'invalid'}`);
        }
        if (index > 0) write(',');
        writeCanonical(value, write);
        const { sha256, source, disposition, reason, choices } = m.data;
        // Copies: the parser's strings are slices of its input chunks, and would keep every chunk alive.
        messages.push({ sha256: own(sha256), source: { file: own(source.file), index: source.index }, disposition: own(disposition), reason: reason === null ? null : own(reason), choices: choices.map(own) });
      }
    } catch (e) {
      if (e instanceof InputError) return await failWhole(path, size, locateUpTo, e);
      throw new InputError('RESULT_INVALID', { file: path, field: 'messages' }, `not a ${RESULT_SCHEMA} result: "messages" is not a list of messages (${(e as Error).message})`);
    }
    write(']');
  }
  write('}');
  hash.update(pending, 'utf8');
  const { messages: _null, ...fields } = top.data;
  return { top: fields as ResultFile['top'], messages, contentDigest: 'sha256:' + hash.digest('hex') };
}

async function startsWithBom(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(3);
    const { bytesRead } = await fh.read(b, 0, 3, 0);
    return bytesRead === 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
  } finally {
    await fh.close();
  }
}

/** Files up to this size are read whole to name the line of a fault; a larger one is named by field only. */
const LOCATE_UP_TO = 64 * 1024 * 1024;

/** A result file that failed to read: the same error, with its line, that reading it whole gives. */
async function failWhole(path: string, size: number, locateUpTo: number, cause: Error | z.ZodError): Promise<never> {
  if (size <= locateUpTo) {
    const file = await loadInputFile(path, 'result');
    const { text, value } = readJsonFile(file); // a syntax error throws here, with its line and column
    const checked = TopSchema.extend({ messages: z.array(MessageSchema) }).safeParse(value);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const at = issue?.path ?? [];
      throw new InputError('RESULT_INVALID', { file: path, line: lineOfPath(text, at), field: at.map(String).join('.') || '(top level)' }, `not a ${RESULT_SCHEMA} result: ${issue?.message ?? 'invalid'}`);
    }
  }
  if (cause instanceof InputError) throw cause;
  if (cause instanceof z.ZodError) {
    const issue = cause.issues[0];
    throw new InputError('RESULT_INVALID', { file: path, field: (issue?.path ?? []).map(String).join('.') || '(top level)' }, `not a ${RESULT_SCHEMA} result: ${issue?.message ?? 'invalid'}`);
  }
  throw new InputError('JSON_SYNTAX', { file: path }, `not valid JSON: ${cause.message}`);
}
