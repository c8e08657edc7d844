// Apply's user-facing errors, in a module of their own so the CLI can recognise them without loading
// the pipeline, slonik and the database drivers.

/** A refusal the user can act on (deletes not allowed, stale plan, declined): one line, nothing written. */
export class ApplyRefusedError extends Error {}

/** The database rejected a statement: the transaction is rolled back, so nothing was written. */
export class ApplyFailedError extends Error {}

/** Another apply holds the lock for longer than --lock-timeout. */
export class ApplyLockTimeoutError extends Error {}
