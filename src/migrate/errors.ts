// Kept apart from migrate.ts so the CLI can recognise the error without loading slonik and zod.

/** The schema change would lose data and --allow-destructive was not given. */
export class DestructiveChangeError extends Error {}
