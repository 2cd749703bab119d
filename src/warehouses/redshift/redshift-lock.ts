import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { SparkifyError } from '../../errors.js';
import { formatTimestampMs } from '../values.js';
import type { Warehouse } from '../warehouse.js';

/**
 * The lock between sparkify runs on Redshift, which has no advisory locks: a
 * one-row table. A run takes it in a short transaction that first LOCKs the
 * table (so two runs cannot both see it free) and inserts its row only if the
 * table is empty; after the commit it reads which row is there, and holds the
 * lock if that row is its own. The transaction only writes: over the Data API
 * it is one BatchExecuteStatement, which returns no rows mid-way. A run
 * releases the lock by deleting its row. A run that dies keeps its row until
 * the lease lapses; the error names the holder and says how to clear it. Each
 * stage's own transaction is also protected by Redshift's serializable
 * isolation, so the lock is about runs not interleaving their stages, not
 * about torn writes.
 *
 * Plain SQL valid in PostgreSQL too, which is where it is tested.
 */

export const LOCK_TABLE = 'sparkify_lock';
/** Longer than any sane load; a crashed run's lock lapses after it. */
export const DEFAULT_LEASE_MS = 6 * 60 * 60 * 1000;

export interface TableLockOptions {
  /** Where the lock applies, for messages: `schema public of Redshift cluster x`. */
  where: string;
  /** Schema holding the lock table, for the hint. */
  schema: string;
  leaseMs?: number;
  /** Who is asking, shown to the next run. Default: `sparkify pid <pid> on <host>`. */
  holder?: string;
  /** The row's token, by which the run knows its row. Default: a random UUID (a dry run shows a fixed one). */
  token?: string;
  now?: () => number;
}

type LockSql = Pick<Warehouse, 'execute' | 'query' | 'transaction' | 'dialect'>;

/**
 * Locks this process took and could not release (the connection died under
 * them). A retry of the same run, on a new connection, clears them rather
 * than find itself locked out by its own first attempt.
 */
const unreleased = new Set<string>();

/**
 * Takes the lock or throws WAREHOUSE_LOCKED; returns an idempotent release.
 *
 * @example
 *   const release = await acquireTableLock(wh, { where: 'schema public', schema: 'public' });
 *   try { … } finally { await release(); }
 */
export async function acquireTableLock(db: LockSql, options: TableLockOptions): Promise<() => Promise<void>> {
  const q = db.dialect.quoteString;
  const now = (options.now ?? Date.now)();
  const token = options.token ?? randomUUID();
  const holder = (options.holder ?? `sparkify pid ${process.pid} on ${os.hostname()}`).slice(0, 500);
  const at = (ms: number) => `CAST(${q(formatTimestampMs(ms))} AS TIMESTAMP)`;
  await db.execute(
    `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (token VARCHAR(64) NOT NULL, holder VARCHAR(512) NOT NULL, acquired_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL)`,
  );
  const stale = [...unreleased];
  await db.transaction(async () => {
    await db.execute(`LOCK ${LOCK_TABLE}`);
    await db.execute(`DELETE FROM ${LOCK_TABLE} WHERE expires_at < ${at(now)}`);
    if (stale.length > 0) await db.execute(`DELETE FROM ${LOCK_TABLE} WHERE token IN (${stale.map(q).join(', ')})`);
    await db.execute(
      `INSERT INTO ${LOCK_TABLE} (token, holder, acquired_at, expires_at) SELECT ${q(token)}, ${q(holder)}, ${at(now)}, ${at(now + (options.leaseMs ?? DEFAULT_LEASE_MS))} WHERE NOT EXISTS (SELECT 1 FROM ${LOCK_TABLE})`,
    );
  });
  // Committed: this process's stale rows are gone.
  for (const t of stale) unreleased.delete(t);
  const [held] = await db.query<{ token: string; holder: string; acquired_at: string; expires_at: string }>(
    `SELECT token, holder, acquired_at, expires_at FROM ${LOCK_TABLE} ORDER BY acquired_at LIMIT 1`,
  );
  if (!held) {
    // The run that held it released it between our transaction and this read.
    throw new SparkifyError('WAREHOUSE_LOCKED', `Another sparkify run was loading ${options.where} and has just finished.`, {
      hint: `Run the command again. If this repeats, check for other runs, or clear the lock: DELETE FROM ${options.schema}.${LOCK_TABLE}`,
    });
  }
  if (held.token !== token) {
    throw new SparkifyError(
      'WAREHOUSE_LOCKED',
      `Another sparkify run is loading ${options.where} (${held.holder}, since ${String(held.acquired_at).slice(0, 19)} UTC).`,
      {
        hint: `Wait for it to finish, or use another --schema. If that run is gone (killed), its lock lapses at ${String(held.expires_at).slice(0, 19)} UTC; to clear it now: DELETE FROM ${options.schema}.${LOCK_TABLE}`,
      },
    );
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    // Best effort: if the connection is gone, this process's next lock clears it, or the lease lapses.
    await db.execute(`DELETE FROM ${LOCK_TABLE} WHERE token = ${q(token)}`).catch(() => unreleased.add(token));
  };
}
