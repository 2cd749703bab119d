import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { SparkifyError } from '../../errors.js';
import { formatTimestampMs } from '../values.js';
import type { Warehouse } from '../warehouse.js';

/**
 * The lock between sparkify runs on Redshift, which has no advisory locks: a
 * one-row table. A run takes it in a short transaction that first LOCKs the
 * table (so two runs cannot both see it free), and releases it by deleting its
 * row. A run that dies keeps its row until the lease lapses; the error names
 * the holder and says how to clear it. Each stage's own transaction is also
 * protected by Redshift's serializable isolation, so the lock is about runs
 * not interleaving their stages, not about torn writes.
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
  const token = randomUUID();
  const holder = (options.holder ?? `sparkify pid ${process.pid} on ${os.hostname()}`).slice(0, 500);
  const at = (ms: number) => `CAST(${q(formatTimestampMs(ms))} AS TIMESTAMP)`;
  await db.execute(
    `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (token VARCHAR(64) NOT NULL, holder VARCHAR(512) NOT NULL, acquired_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL)`,
  );
  await db.transaction(async () => {
    await db.execute(`LOCK ${LOCK_TABLE}`);
    await db.execute(`DELETE FROM ${LOCK_TABLE} WHERE expires_at < ${at(now)}`);
    if (unreleased.size > 0) await db.execute(`DELETE FROM ${LOCK_TABLE} WHERE token IN (${[...unreleased].map(q).join(', ')})`);
    const [held] = await db.query<{ holder: string; acquired_at: string; expires_at: string }>(
      `SELECT holder, acquired_at, expires_at FROM ${LOCK_TABLE} ORDER BY acquired_at LIMIT 1`,
    );
    if (held) {
      throw new SparkifyError(
        'WAREHOUSE_LOCKED',
        `Another sparkify run is loading ${options.where} (${held.holder}, since ${String(held.acquired_at).slice(0, 19)} UTC).`,
        {
          hint: `Wait for it to finish, or use another --schema. If that run is gone (killed), its lock lapses at ${String(held.expires_at).slice(0, 19)} UTC; to clear it now: DELETE FROM ${options.schema}.${LOCK_TABLE}`,
        },
      );
    }
    await db.execute(
      `INSERT INTO ${LOCK_TABLE} (token, holder, acquired_at, expires_at) VALUES (${q(token)}, ${q(holder)}, ${at(now)}, ${at(now + (options.leaseMs ?? DEFAULT_LEASE_MS))})`,
    );
  });
  unreleased.clear();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    // Best effort: if the connection is gone, this process's next lock clears it, or the lease lapses.
    await db.execute(`DELETE FROM ${LOCK_TABLE} WHERE token = ${q(token)}`).catch(() => unreleased.add(token));
  };
}
