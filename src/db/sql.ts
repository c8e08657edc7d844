import { createSqlTag } from 'slonik';

/** The one slonik `sql` tag used everywhere in Canon. */
export const sql = createSqlTag();
