/**
 * A database problem the user can act on: printed as one line, never with a stack trace. In a module
 * of its own, free of dependencies, so that the CLI's error handling loads no database package.
 */
export class DatabaseError extends Error {}
