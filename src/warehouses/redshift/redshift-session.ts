import { SparkifyError } from '../../errors.js';
import { notCreatedForReading, type Warehouse } from '../warehouse.js';

/**
 * The session settings every Redshift transport makes before any work, one
 * statement at a time (the Data API takes one per call): UTC timestamps,
 * floats printed exactly, and the chosen schema first on the search path so
 * that the shared unqualified SQL finds its tables.
 */
export async function setUpRedshiftSession(db: Pick<Warehouse, 'execute' | 'query' | 'dialect'>, schema: string, where: string, readOnly = false): Promise<void> {
  const q = db.dialect.quoteString;
  await db.execute(`SET timezone TO 'UTC'`);
  // Redshift's extra_float_digits goes up to 2 (PostgreSQL 8 era): 17 significant digits, which parse back to the same double.
  await db.execute('SET extra_float_digits TO 2');
  const [found] = await db.query<{ usable: boolean }>(
    `SELECT has_schema_privilege(nspname, 'USAGE') AS usable FROM pg_namespace WHERE nspname = ${q(schema)}`,
  );
  if (!found && readOnly) throw notCreatedForReading(`Schema ${schema} on ${where}`);
  if (!found) await db.execute(`CREATE SCHEMA IF NOT EXISTS ${db.dialect.quoteIdent(schema)}`);
  else if (!found.usable) {
    throw new SparkifyError('WAREHOUSE_PERMISSION_DENIED', `The database user may not use schema ${schema} on ${where} (no USAGE privilege).`, {
      hint: `Ask an administrator to GRANT USAGE, CREATE ON SCHEMA ${schema} to the user, or choose a schema you own with --schema.`,
    });
  }
  await db.execute(`SET search_path TO ${db.dialect.quoteIdent(schema)}`);
}
