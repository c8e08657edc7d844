import { Readable } from 'node:stream';
import type pg from 'pg';

// What both drivers (the server's and PGlite's, both node-postgres clients) hand slonik for a result.

/** A node-postgres result in the shape slonik's driver API expects. */
export function driverResult(result: pg.QueryResult) {
  return {
    command: result.command as never,
    fields: result.fields.map((f) => ({ dataTypeId: f.dataTypeID, name: f.name })),
    rowCount: result.rowCount,
    rows: result.rows,
  };
}

/**
 * A stream of one query's rows. Canon reads result sets whole; streaming is served from one query for
 * the API's completeness.
 */
export function streamOf(result: Promise<pg.QueryResult>) {
  const readable = new Readable({ objectMode: true, read() {} });
  result.then(
    (r) => {
      const fields = r.fields.map((f) => ({ dataTypeId: f.dataTypeID, name: f.name }));
      for (const row of r.rows) readable.push({ fields, row });
      readable.push(null);
    },
    (error: Error) => readable.destroy(error),
  );
  return readable as never;
}
