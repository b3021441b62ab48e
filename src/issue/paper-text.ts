import type { Election } from '../inputs/election.js';
import type { Council } from '../inputs/roster.js';

/** The text ballot paper of spec §2.4, for one council. */
export function paperText(election: Election, council: Council, reference: string): string {
  const howMany = election.vacancies === 1 ? 'Vote for ONE candidate only.' : `Vote for up to ${election.vacancies} candidates.`;
  const lines = [
    'CCIN BALLOT PAPER',
    `Election: ${election.title}`,
    `Ballot reference: ${reference}`,
    `Council: ${council.name}`,
    '',
    `${howMany} Put a cross (X) in the box next to your choice.`,
    '',
    ...election.candidates.map((c) => `[ ] ${c.name}${c.council ? ` (${c.council})` : ''}`),
    '',
    'Signed off by the Council Leader or Mayor',
    'Name:',
    'Position:',
    'Date:',
  ];
  return lines.join('\n') + '\n';
}
