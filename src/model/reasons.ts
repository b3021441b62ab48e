/**
 * The closed vocabulary of the result (spec §3). Every module that names a disposition or a reason
 * imports it from here; the order of REJECTION_REASONS is the order in which rejection findings
 * decide (spec §3, rule 5).
 */
export const DISPOSITIONS = [
  'counted',
  'rejected',
  'superseded',
  'duplicate-copy',
  'not-a-ballot',
  'needs-adjudication',
] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

export const REJECTION_REASONS = [
  'unknown-sender',
  'ambiguous-sender',
  'not-eligible',
  'late',
  'early',
  'unauthenticated',
  'no-sign-off',
  'sign-off-mismatch',
  'council-mismatch',
  'wrong-reference',
  'unmarked',
  'overvote',
  'void-for-uncertainty',
  'conflicting-duplicates',
  'unreadable',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const ADJUDICATION_REASONS = [
  'forwarded',
  'no-ballot-paper',
  'sign-off-near-miss',
  'unreadable-attachment',
  'unauthenticated-change',
] as const;
export type AdjudicationReason = (typeof ADJUDICATION_REASONS)[number];

/** Why a message is not a ballot at all (kept in evidence; the disposition carries no reason). */
export type NotABallotKind = 'auto-reply' | 'delivery-report' | 'read-receipt' | 'from-ballot-address' | 'no-paper';

export type Reason = RejectionReason | AdjudicationReason;

/** Human wording of each reason, used by every renderer. */
export const REASON_TEXT: Record<Reason, string> = {
  'unknown-sender': 'sender matches no council in the roster',
  'ambiguous-sender': 'names no single sender (several From headers or addresses)',
  'not-eligible': 'council is not of an eligible membership class',
  late: 'received after the deadline',
  early: 'received before voting opened',
  unauthenticated: 'no passing DKIM signature aligned with the sender',
  'no-sign-off': 'not signed off by a Leader or Mayor',
  'sign-off-mismatch': "signatory is not the roster's Leader/Mayor",
  'council-mismatch': "paper names a different council than the sender's",
  'wrong-reference': 'ballot reference is not the one issued to that council',
  unmarked: 'no candidate marked',
  overvote: 'more candidates marked than vacancies',
  'void-for-uncertainty': 'marks cannot be read with certainty',
  'conflicting-duplicates': "council's valid papers disagree",
  unreadable: 'message or attachment cannot be parsed',
  forwarded: 'forwards a ballot sent by someone else',
  'no-ballot-paper': 'from an eligible council but contains no ballot paper',
  'sign-off-near-miss': "signatory is probably the roster's Leader/Mayor, misspelt",
  'unreadable-attachment': 'paper is in an attachment that cannot be read automatically',
  'unauthenticated-change': "an unauthenticated paper would change a council's signed vote",
};

/** Counts by reason, in the spec's table order (rejections first, then adjudication reasons). */
export function reasonsInOrder(counts: Partial<Record<Reason, number>>): [Reason, number][] {
  return [...REJECTION_REASONS, ...ADJUDICATION_REASONS].filter((k) => (counts[k] ?? 0) > 0).map((k) => [k, counts[k] ?? 0]);
}
