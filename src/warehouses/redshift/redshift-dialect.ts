import { baseDialect, dialect } from '../../schema/dialect.js';
import type { Table } from '../../schema/tables.js';

/**
 * What Redshift's SQL needs beyond PostgreSQL's, as data: sized VARCHARs
 * (lengths in bytes, from the tables' `maxBytes`), distribution and sort keys
 * from the tables' hints, reserved words quoted, and string literals in which
 * a backslash is an escape character (Redshift's QUOTE_LITERAL doubles
 * backslashes, as PostgreSQL did before standard_conforming_strings).
 */

/**
 * Redshift's reserved words, as the Database Developer Guide lists them
 * ("Reserved words"), plus START and CONNECT, which it says to quote although
 * they are not reserved. Only these are quoted; of our columns only
 * etl_rejects.raw is one.
 */
export const REDSHIFT_RESERVED = new Set(
  `AES128 AES256 ALL ALLOWOVERWRITE ANALYSE ANALYZE AND ANY ARRAY AS ASC AUTHORIZATION AZ64 BACKUP BETWEEN BINARY
  BLANKSASNULL BOTH BYTEDICT BZIP2 CASE CAST CHECK COLLATE COLUMN CONNECT CONSTRAINT CREATE CREDENTIALS CROSS CURRENT_DATE
  CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURRENT_USER_ID DEFAULT DEFERRABLE DEFLATE DEFRAG DELTA DELTA32K DESC
  DISABLE DISTINCT DO ELSE EMPTYASNULL ENABLE ENCODE ENCRYPT ENCRYPTION END EXCEPT EXPLICIT FALSE FOR FOREIGN FREEZE
  FROM FULL GLOBALDICT256 GLOBALDICT64K GRANT GROUP GZIP HAVING IDENTITY IGNORE ILIKE IN INITIALLY INNER INTERSECT
  INTERVAL INTO IS ISNULL JOIN LEADING LEFT LIKE LIMIT LOCALTIME LOCALTIMESTAMP LUN LUNS LZO LZOP MINUS
  MOSTLY16 MOSTLY32 MOSTLY8 NATURAL NEW NOT NOTNULL NULL NULLS OFF OFFLINE OFFSET OID OLD ON ONLY OPEN OR ORDER OUTER
  OVERLAPS PARALLEL PARTITION PERCENT PERMISSIONS PIVOT PLACING PRIMARY RAW READRATIO RECOVER REFERENCES REJECTLOG
  RESORT RESPECT RESTORE RIGHT SELECT SESSION_USER SIMILAR SNAPSHOT SOME START SYSDATE SYSTEM TABLE TAG TDES TEXT255
  TEXT32K THEN TIMESTAMP TO TOP TRAILING TRUE TRUNCATECOLUMNS UNION UNIQUE UNNEST UNPIVOT USER USING VERBOSE WALLET
  WHEN WHERE WITH WITHOUT`.split(/\s+/),
);

/** Redshift's largest VARCHAR, in bytes; also what an unsized text column gets. */
export const REDSHIFT_MAX_VARCHAR = 65535;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function columnName(name: string): string {
  return REDSHIFT_RESERVED.has(name.toUpperCase()) ? quoteIdent(name) : name;
}

/**
 * `DISTSTYLE …`, `DISTKEY (…)` and `SORTKEY (…)` from a table's hints.
 *
 * @example
 *   redshiftTableAttributes(songplays); // 'DISTSTYLE EVEN SORTKEY (start_time)'
 */
export function redshiftTableAttributes(table: Table): string {
  const parts: string[] = [];
  const d = table.distribution;
  if (d?.style === 'key') parts.push(`DISTSTYLE KEY DISTKEY (${columnName(d.key)})`);
  else if (d) parts.push(`DISTSTYLE ${d.style.toUpperCase()}`);
  if (table.sortKey && table.sortKey.length > 0) parts.push(`SORTKEY (${table.sortKey.map(columnName).join(', ')})`);
  return parts.join(' ');
}

export const redshiftDialect = dialect({
  name: 'redshift',
  typeName(type, column) {
    switch (type) {
      case 'text':
        return `VARCHAR(${Math.min(column?.maxBytes ?? REDSHIFT_MAX_VARCHAR, REDSHIFT_MAX_VARCHAR)})`;
      default:
        return baseDialect.typeName(type, column);
    }
  },
  // Also valid PostgreSQL, which is how the millisecond arithmetic is tested
  // here. Integer division (`ts / 1000`) would drop the milliseconds, and
  // DATEADD takes a 32-bit count, too small for epoch milliseconds.
  epochMsToTimestamp: (expr) => `(TIMESTAMP 'epoch' + (${expr}) * INTERVAL '1 millisecond')`,
  // Informational in Redshift (not enforced), but the planner uses them.
  primaryKeys: 'informational',
  // A daily run's new records go into regular tables: a Data API session can end between two calls (its
  // temporary tables with it), and the run's COPYs and its transaction are separate calls.
  scratchTables: 'regular',
  tableAttributes: redshiftTableAttributes,
  columnName,
  quoteIdent,
  quoteString(value) {
    return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  },
});
