import { randomBytes } from 'node:crypto';

const fallbackRun = randomBytes(4).toString('hex');

/**
 * How this run's server databases begin: `canon_test_<run>_`. The global setup sets the run id, so its
 * teardown can find and drop exactly this run's databases; a file run without it gets an id of its own.
 */
export const serverDatabasePrefix = () => `canon_test_${process.env.CANON_TEST_RUN ?? fallbackRun}_`;

/**
 * How the run's shared server databases begin (preparations every test file may copy): its teardown
 * drops them like the rest, without counting them as left behind.
 */
export const sharedDatabasePrefix = () => `${serverDatabasePrefix()}shared_`;
