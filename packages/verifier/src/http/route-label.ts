/**
 * The `path` label when a framework hands an adapter no route template (only a not-found handler
 * does): bounded, and never the raw URL.
 */
export const UNMATCHED_ROUTE = '(unmatched)';
