export type SourceKind = 'eml' | 'mbox' | 'maildir' | 'msg';

/** Where a message came from, named so that it does not depend on the working directory. */
export interface Provenance {
  /** The argument's base name, then the path below it: "mailbox/cur/1706..:2,S", "export.mbox". */
  file: string;
  kind: SourceKind;
  /** 1-based position in an mbox file; null for one-message files. */
  index: number | null;
  /** Line of the mbox file at which the message's "From " line stands. */
  line: number | null;
}

export interface RawMessage {
  source: Provenance;
  /** The message's bytes (mbox "From " line removed and ">From " un-escaped), or as much as the size limit allowed. */
  bytes: Buffer;
  size: number;
  sha256: string;
  /** Set when the message is larger than the limit: bytes is then empty and the message is unreadable. */
  oversize: boolean;
}

export interface InputFileRecord {
  file: string;
  kind: SourceKind | 'skipped';
  sha256: string;
  bytes: number;
  messages: number;
  /** Why a file in a folder was not read as mail. */
  note?: string;
}

export interface SourceLimits {
  maxMessageBytes: number;
}

export const DEFAULT_LIMITS: SourceLimits = { maxMessageBytes: 25 * 1024 * 1024 };
