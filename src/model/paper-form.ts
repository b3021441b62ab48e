/** Field names of the fillable PDF paper: `papers` writes them (issue/), the PDF reader reads them (read/). */
export const PDF_FIELDS = {
  vote: 'vote',
  votePrefix: 'vote.',
  voteFor: (candidateId: string) => `vote.${candidateId}`,
  name: 'name',
  position: 'position',
  date: 'date',
  council: 'council',
  reference: 'reference',
} as const;
