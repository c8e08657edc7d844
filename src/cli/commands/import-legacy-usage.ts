/** The legacy half of `canon import --help`, apart so the help does not load the legacy importer. */
export const legacyUsage = `Legacy databases:
  canon import --legacy <seed|mapping.yaml> --source <db> --out <folder> [--source-schema public]
               [--report report.json] [--verify --database <target>] [--emit-deprecation-sql <file>]

Reads the tables a mapping names from the legacy database (one REPEATABLE READ, READ ONLY
transaction: the source is never written) and writes the clean registry as YAML. 'seed' is the
built-in mapping for the design document's layout (dh_* tables); a mapping file describes another.
Every source row is accounted for: imported, merged into another asset, or skipped by a rule, and
every value changed to fit the schemas is listed with its row and why (the reconciliation report).

  --legacy <m>              'seed', or a mapping file (format: README, "Importing a legacy database")
  --source <db>             the legacy database: a postgres:// URL or pglite:<folder>
  --source-schema <name>    the schema of the legacy tables (default: public)
  --report <file>           also write the reconciliation report as JSON
  --verify                  compare what the mapping makes of the source with the target database
                            (--database, else $DATABASE_URL), row by row; exit 1 on any difference
  --schema <name>           the target's schema for --verify (default: "schema:" in <out>/canon.yaml)
  --emit-deprecation-sql <file>
                            write (never run) the ALTER TABLE … RENAME TO _deprecated_<table>_<yyyy_mm>
                            statements for the consolidated legacy tables

Exit status: 0 when every row is accounted for (and, with --verify, the target matches), 1 otherwise.`;
