// Moved to shared/storing/occurrence.ts. Kept for the modules other changes are moving at the same time
// (the fold's, and item-changes.ts); delete once nothing imports #shared/grouping/occurrence.

export type { OccurrenceFacts, PersonRef, PreparedOccurrence } from '#shared/storing/occurrence';
export { itemIdOf } from '#shared/storing/occurrence';
