import { z } from 'zod';
import { InputError } from '../model/errors.js';
import { RESULT_SCHEMA } from '../model/result.js';
import type { LoadedFile } from './files.js';
import { lineOfPath, readJsonFile } from './json-locate.js';

/** What `verify` needs of a result file; the rest is compared through the digest. */
const ResultFileSchema = z.looseObject({
  schema: z.literal(RESULT_SCHEMA),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  inputs: z.looseObject({
    election: z.looseObject({ file: z.string(), sha256: z.string() }),
    roster: z.looseObject({ file: z.string(), sha256: z.string() }),
    adjudications: z.looseObject({ file: z.string(), sha256: z.string() }).nullable(),
    mailbox: z.array(z.looseObject({ file: z.string(), sha256: z.string() })),
  }),
  messages: z.array(
    z.looseObject({
      sha256: z.string(),
      source: z.looseObject({ file: z.string(), index: z.number().nullable() }),
      disposition: z.string(),
      reason: z.string().nullable(),
      choices: z.array(z.string()),
    }),
  ),
  tally: z.array(z.looseObject({ candidate: z.string(), votes: z.number(), elected: z.boolean() })),
  turnout: z.looseObject({ voted: z.number(), eligible: z.number() }),
  final: z.boolean(),
});
export type ResultFile = z.infer<typeof ResultFileSchema> & Record<string, unknown>;

export function parseResultFile(file: LoadedFile): ResultFile {
  const { text, value: raw } = readJsonFile(file);
  const parsed = ResultFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    throw new InputError(
      'RESULT_INVALID',
      { file: file.path, line: lineOfPath(text, path), field: path.map(String).join('.') || '(top level)' },
      `not a ${RESULT_SCHEMA} result: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data as ResultFile;
}
