import { ConfigError, firstLine, num, plural, SparkifyError, toSparkifyError } from '../errors.js';
import { createTableSql, dropTableSql } from '../schema/ddl.js';
import { etlRejects, stagingEvents } from '../schema/tables.js';
import { openSource } from '../sources/open-source.js';
import { isS3Location } from '../sources/s3-location.js';
import type { Source, SourceOptions } from '../sources/source.js';
import type { SqlValue, Warehouse } from '../warehouses/warehouse.js';
import { cancelOnAbort } from './stage.js';

/**
 * `sparkify doctor`: what sparkify relies on in a warehouse, checked on the
 * warehouse itself. Some of it (Redshift's COPY and its load history, a Data
 * API batch being one transaction) is only known here from documentation; a
 * user with a warehouse runs this to verify it for real. Every check is
 * isolated (one failing does not stop the others) and drops what it creates,
 * even when it fails. The checks that write run under the warehouse's run
 * lock, so the doctor never meets a running load.
 */

export type DoctorStatus = 'pass' | 'fail' | 'skip';

export interface DoctorCheck {
  name: string;
  status: DoctorStatus;
  /** One line: what was seen, or why it failed or was skipped. */
  detail: string;
}

export interface DoctorReport {
  /** The warehouse's description (no password). */
  warehouse: string;
  /** Every check, in the order of DOCTOR_CHECKS. */
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** The event logs (`s3://…`): Redshift's COPY check loads the first file there. */
  logs?: string;
  /** How sources are opened (S3 endpoint, region). */
  sourceOptions?: SourceOptions;
  /** Aborting it cancels the running statement, skips the remaining checks and fails with ABORTED, after cleaning up. */
  signal?: AbortSignal;
}

/** The checks' names, in the order they run. */
export const DOCTOR_CHECKS = {
  connect: 'connect',
  table: 'create and drop a table in the schema',
  rollback: 'a failed transaction leaves nothing',
  text: 'text compares byte for byte where it matters',
  names: 'table names in counts come back unpadded',
  weeks: 'ISO weeks',
  millis: 'milliseconds survive',
  copy: "COPY's load errors are found and reconciled",
} as const;

/** The scratch tables the checks create and drop. */
export const DOCTOR_TABLE = '_sparkify_doctor';
const DOCTOR_EVENTS = '_sparkify_doctor_events';
const DOCTOR_REJECTS = '_sparkify_doctor_rejects';

type Outcome = Omit<DoctorCheck, 'name'>;

const pass = (detail: string): Outcome => ({ status: 'pass', detail });
const fail = (detail: string): Outcome => ({ status: 'fail', detail });
const skip = (detail: string): Outcome => ({ status: 'skip', detail });

/**
 * Runs every check on `wh` and reports each; never throws for a failed check
 * (only ABORTED, when `signal` stops it).
 *
 * @example
 *   const report = await doctor(wh, { logs: 's3://udacity-dend/log_data' });
 *   const ok = report.checks.every((c) => c.status !== 'fail');
 */
export async function doctor(wh: Warehouse, options: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, outcome: Outcome) => checks.push({ name, ...outcome });
  const run = async (name: string, fn: () => Promise<Outcome>) => {
    if (options.signal?.aborted) return add(name, skip('not run: stopped'));
    add(name, await attempt(fn));
  };

  await cancelOnAbort(wh, options.signal, async () => {
    add(DOCTOR_CHECKS.connect, pass(wh.description));

    // The lock is held from the first writing check to the last (the read-only ones between take milliseconds).
    let release: (() => Promise<void>) | undefined;
    let locked: string | undefined;
    try {
      release = await wh.lock();
    } catch (err) {
      const e = toSparkifyError(err);
      locked = e.code === 'WAREHOUSE_LOCKED' ? `another run holds the lock: ${firstLine(e.message)}` : `could not take the run lock: ${describeError(e)}`;
    }
    try {
      if (locked) {
        add(DOCTOR_CHECKS.table, fail(`${locked}; the checks that write were not run`));
        add(DOCTOR_CHECKS.rollback, skip(`not run: ${locked}`));
      } else {
        await run(DOCTOR_CHECKS.table, () => createAndDrop(wh));
        await run(DOCTOR_CHECKS.rollback, () => failedTransaction(wh));
      }
      await run(DOCTOR_CHECKS.text, () => textCompare(wh));
      await run(DOCTOR_CHECKS.names, () => unpaddedNames(wh));
      await run(DOCTOR_CHECKS.weeks, () => isoWeeks(wh));
      await run(DOCTOR_CHECKS.millis, () => milliseconds(wh));
      const copyUnusable = copyCheckSkipped(wh, options.logs);
      if (copyUnusable) add(DOCTOR_CHECKS.copy, skip(copyUnusable));
      else if (locked) add(DOCTOR_CHECKS.copy, skip(`not run: ${locked}`));
      else await run(DOCTOR_CHECKS.copy, () => copyLoadErrors(wh, options.logs!, options.sourceOptions ?? {}));
    } finally {
      await release?.().catch(() => undefined);
    }
  });

  if (options.signal?.aborted) {
    throw new SparkifyError('ABORTED', 'Stopped during doctor; its scratch tables were dropped and the lock released.', {
      hint: 'Run `sparkify doctor` again when you are ready.',
    });
  }
  return { warehouse: wh.description, checks };
}

/** A check's outcome, or its error as a failure. */
async function attempt(fn: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await fn();
  } catch (err) {
    return fail(describeError(err));
  }
}

/** `CODE: first line of the message` (a configuration error: each of its issues). */
function describeError(err: unknown): string {
  if (err instanceof ConfigError) return `${err.code}: ${err.issues.map((i) => `${i.where}: ${i.message}`).join('; ')}`;
  const e = toSparkifyError(err);
  return `${e.code}: ${firstLine(e.message)}`;
}

/**
 * Runs `fn` with `names` dropped before (a leftover of a doctor that was
 * killed) and after, whatever happened; a table that cannot be dropped
 * afterwards fails the check.
 */
async function withScratch(wh: Warehouse, names: readonly string[], fn: () => Promise<Outcome>): Promise<Outcome> {
  for (const name of names) await wh.execute(dropTableSql(name));
  const outcome = await attempt(fn);
  const left: string[] = [];
  for (const name of names) {
    try {
      await wh.execute(dropTableSql(name));
    } catch (err) {
      left.push(`${name} (${describeError(err)})`);
    }
  }
  if (left.length === 0) return outcome;
  return fail(`${outcome.detail}; could not drop ${left.join(', ')}`);
}

function scratchTableSql(wh: Warehouse): string {
  const d = wh.dialect;
  return `CREATE TABLE ${DOCTOR_TABLE} (id ${d.typeName('integer')}, ${d.columnName('name')} ${d.typeName('text', { name: 'name', type: 'text', maxBytes: 16 })})`;
}

/** 2: the schema takes a table, and gives it back. */
async function createAndDrop(wh: Warehouse): Promise<Outcome> {
  return withScratch(wh, [DOCTOR_TABLE], async () => {
    await wh.execute(scratchTableSql(wh));
    await wh.execute(`DROP TABLE ${DOCTOR_TABLE}`);
    return pass(`${DOCTOR_TABLE} created and dropped`);
  });
}

/**
 * 3: a transaction whose second statement fails at run time leaves nothing of
 * its first. The failing statement reads the row the first inserted ('x' is no
 * integer), so it fails only if that row is there. Only `execute` inside: on
 * the Data API the transaction is one BatchExecuteStatement, which this proves
 * atomic; on the wire protocol, BEGIN … ROLLBACK.
 */
async function failedTransaction(wh: Warehouse): Promise<Outcome> {
  const name = wh.dialect.columnName('name');
  const failing = `INSERT INTO ${DOCTOR_TABLE} (id, ${name}) SELECT CAST(${name} AS INTEGER), 'y' FROM ${DOCTOR_TABLE}`;
  return withScratch(wh, [DOCTOR_TABLE], async () => {
    await wh.execute(scratchTableSql(wh));
    const insert = `INSERT INTO ${DOCTOR_TABLE} (id, ${name}) VALUES (1, 'x')`;
    let error: unknown;
    try {
      await wh.transaction(async () => {
        await wh.execute(insert);
        await wh.execute(failing);
      });
    } catch (err) {
      error = err;
    }
    if (error === undefined) return fail(`the statement meant to fail succeeded (${failing}), so nothing was proven`);
    const e = toSparkifyError(error);
    // An empty table would prove nothing if the INSERT itself failed (where the warehouse names the statement that failed).
    if (e.sql !== undefined && e.sql.trim() === insert) return fail(`the INSERT before the statement meant to fail failed: ${describeError(e)}`);
    const [row] = await wh.query<{ n: SqlValue }>(`SELECT COUNT(*) AS n FROM ${DOCTOR_TABLE}`);
    const n = Number(row?.n);
    if (n !== 0) return fail(`${plural(n, 'row')} of the failed transaction stayed: it was not rolled back`);
    return pass(`its INSERT was rolled back when the next statement failed (${firstLine(e.message).slice(0, 100)})`);
  });
}

/**
 * 4: LENGTH counts a trailing space. Sparkify matches plays to songs on the
 * text and its length, so the match is byte-exact even where `=` ignores
 * trailing spaces (Redshift).
 */
async function textCompare(wh: Warehouse): Promise<Outcome> {
  const [row] = await wh.query<{ len: SqlValue; eq: SqlValue }>(
    `SELECT LENGTH(CAST('a ' AS VARCHAR(8))) AS len, CASE WHEN CAST('a ' AS VARCHAR(8)) = CAST('a' AS VARCHAR(8)) THEN 1 ELSE 0 END AS eq`,
  );
  const len = Number(row?.len);
  const eq = Number(row?.eq) === 1;
  const equality = eq ? "= ignores trailing spaces ('a ' = 'a'), which the length comparison makes up for" : "= sees trailing spaces too ('a ' <> 'a')";
  if (len !== 2) return fail(`LENGTH('a ') is ${String(row?.len)}, not 2: trailing spaces are not counted, so 'a ' and 'a' would match; ${equality}`);
  return pass(`LENGTH('a ') is 2; ${equality}`);
}

/** 5: the names in `counts` (cast to VARCHAR) come back as written; a bare literal's padding is reported. */
async function unpaddedNames(wh: Warehouse): Promise<Outcome> {
  const expected = ['songplays', 'users'];
  const values = async (sql: string) => (await wh.query<{ name: SqlValue }>(sql)).map((r) => r.name).sort();
  const cast = await values(`SELECT CAST('users' AS VARCHAR(128)) AS name UNION ALL SELECT CAST('songplays' AS VARCHAR(128)) AS name`);
  let bare: string;
  try {
    const found = await values(`SELECT 'users' AS name UNION ALL SELECT 'songplays' AS name`);
    bare = sameValues(found, expected) ? 'a bare literal comes back unpadded too' : `a bare literal comes back as ${JSON.stringify(found)} (padded; sparkify casts)`;
  } catch (err) {
    bare = `a bare literal fails: ${describeError(err)}`;
  }
  if (!sameValues(cast, expected)) return fail(`cast to VARCHAR(128), they come back as ${JSON.stringify(cast)}; ${bare}`);
  return pass(`cast to VARCHAR(128), 'users' and 'songplays' come back as written; ${bare}`);
}

function sameValues(found: readonly SqlValue[], expected: readonly string[]): boolean {
  return found.length === expected.length && found.every((v, i) => v === expected[i]);
}

/** 6: EXTRACT(WEEK) is the ISO week, and EXTRACT(DOW) counts from Sunday = 0, as the time table's transform assumes. */
async function isoWeeks(wh: Warehouse): Promise<Outcome> {
  const [row] = await wh.query<{ a: SqlValue; b: SqlValue; sunday: SqlValue }>(
    `SELECT CAST(EXTRACT(WEEK FROM TIMESTAMP '2018-12-31 00:00:00') AS INTEGER) AS a, CAST(EXTRACT(WEEK FROM TIMESTAMP '2021-01-03 00:00:00') AS INTEGER) AS b, CAST(EXTRACT(DOW FROM TIMESTAMP '2018-11-04 00:00:00') AS INTEGER) AS sunday`,
  );
  const [a, b, sunday] = [row?.a, row?.b, row?.sunday].map((v) => Number(v));
  const seen = `week of 2018-12-31 = ${a} (ISO 1), of 2021-01-03 = ${b} (ISO 53); DOW of Sunday 2018-11-04 = ${sunday} (0)`;
  return a === 1 && b === 53 && sunday === 0 ? pass(seen) : fail(seen);
}

/** 7: epoch milliseconds become a timestamp that keeps them. */
async function milliseconds(wh: Warehouse): Promise<Outcome> {
  const expected = '2018-11-01 20:57:10.796';
  const [row] = await wh.query<{ t: SqlValue }>(`SELECT ${wh.dialect.epochMsToTimestamp('CAST(1541105830796 AS BIGINT)')} AS t`);
  const t = row?.t;
  return t === expected ? pass(`1541105830796 ms is ${expected}`) : fail(`1541105830796 ms came back as ${JSON.stringify(t)}, not ${expected}`);
}

/** Why check 8 cannot run here, or undefined when it can. */
function copyCheckSkipped(wh: Warehouse, logs: string | undefined): string | undefined {
  if (wh.kind !== 'redshift') return 'Redshift only';
  if (!logs) return 'no event logs given: pass --logs s3://bucket/prefix (or [S3] LOG_DATA) to check COPY';
  if (!isS3Location(logs)) return `the event logs (${logs}) are not on Amazon S3: pass --logs s3://bucket/prefix to check COPY`;
  return undefined;
}

/**
 * 8 (Redshift): the real COPY of the first event-log file into scratch copies
 * of staging_events and etl_rejects, with the load-history lookup and the
 * reconciliation that fails the load when Redshift's counts and what was found
 * differ; then whether SYS_LOAD_HISTORY's query_id is pg_last_copy_id(), which
 * the documentation leaves open (sparkify also finds the COPY by session).
 */
async function copyLoadErrors(wh: Warehouse, logs: string, sourceOptions: SourceOptions): Promise<Outcome> {
  const opened: Source[] = [];
  try {
    const all = await openSource(logs, sourceOptions);
    opened.push(all);
    const [file] = await all.list();
    if (!file) return fail(`no *.json files under ${all.uri}`);
    // A source for the one object: COPY then reads that object alone.
    const source = await openSource(file.uri, sourceOptions);
    opened.push(source);
    const issues = await wh.sourceIssues(stagingEvents, source);
    if (issues.length > 0) throw new ConfigError(issues);
    return await withScratch(wh, [DOCTOR_EVENTS, DOCTOR_REJECTS], async () => {
      await wh.execute(createTableSql(stagingEvents, wh.dialect, { name: DOCTOR_EVENTS, primaryKey: false }));
      await wh.execute(createTableSql(etlRejects, wh.dialect, { name: DOCTOR_REJECTS, primaryKey: false }));
      const result = await wh.loadStaging(stagingEvents, { into: { rows: DOCTOR_EVENTS, rejects: DOCTOR_REJECTS }, source, files: [file], format: 'ndjson' });
      let ids: string;
      try {
        const [row] = await wh.query<{ n: SqlValue }>('SELECT COUNT(*) AS n FROM sys_load_history WHERE query_id = pg_last_copy_id()');
        ids = Number(row?.n) > 0 ? 'the same id' : 'another id: found by session';
      } catch (err) {
        ids = `unknown (${describeError(err)})`;
      }
      const [rows] = await wh.query<{ n: SqlValue }>(`SELECT COUNT(*) AS n FROM ${DOCTOR_EVENTS}`);
      const [rejects] = await wh.query<{ n: SqlValue }>(`SELECT COUNT(*) AS n FROM ${DOCTOR_REJECTS}`);
      const held = { rows: Number(rows?.n), rejects: Number(rejects?.n) };
      if (held.rows !== result.rows || held.rejects !== result.rejected) {
        return fail(`the load reported ${plural(result.rows, 'row')} and ${plural(result.rejected, 'reject')} from ${file.uri}, and the tables hold ${num(held.rows)} and ${num(held.rejects)}`);
      }
      return pass(`${plural(result.rows, 'row')}, ${plural(result.rejected, 'reject')} from ${file.uri}; SYS_LOAD_HISTORY's query_id vs pg_last_copy_id(): ${ids}`);
    });
  } finally {
    await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
  }
}
