import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { firstLine, messageOf, SparkifyError } from '../errors.js';
import { baseDialect } from '../schema/dialect.js';
import { STAR_TABLES, type Table } from '../schema/tables.js';
import { parseS3Location } from '../sources/s3-location.js';
import type { SourceOptions } from '../sources/source.js';
import { bigintAsText } from '../warehouses/values.js';
import type { Row, Warehouse } from '../warehouses/warehouse.js';

/**
 * The star schema as Parquet, into a folder or an `s3://` prefix, in the
 * data-lake layout of the course's Spark variant: `songplays/` partitioned by
 * year and month (of start_time), `songs/` by year and artist_id, `time/` by
 * year and month (Hive-style folders, `year=2018/month=11/`), `users.parquet`
 * and `artists.parquet` whole. From any warehouse: DuckDB writes its own
 * tables; from PostgreSQL or Redshift the rows are read a page at a time (by
 * primary key, so memory stays flat) and an in-memory DuckDB writes them with
 * the column types of tables.ts. The files read back into the same rows.
 */

/** How each table is laid out: the partition columns, and any that are derived for it. */
const PARTITIONS: Record<string, { by: string[]; derived?: string }> = {
  songplays: { by: ['year', 'month'], derived: 'CAST(EXTRACT(YEAR FROM start_time) AS INTEGER) AS year, CAST(EXTRACT(MONTH FROM start_time) AS INTEGER) AS month' },
  songs: { by: ['year', 'artist_id'] },
  time: { by: ['year', 'month'] },
};

export interface ExportOptions {
  /** A folder (created when missing) or `s3://bucket/prefix`. */
  out: string;
  /** Default: the star tables. */
  tables?: readonly Table[];
  /** Where S3 is and how to sign, for an `s3://` destination. */
  s3?: SourceOptions;
  /** Rows per page read from a server warehouse. Default 100,000. */
  pageRows?: number;
}

export interface ExportedTable {
  table: string;
  /** The file written (`users.parquet`), or the folder of a partitioned table (`songplays/`): a local path or an `s3://` URI. */
  location: string;
  /** The Hive partition columns, for a partitioned table. */
  partitionedBy?: string[];
  rows: number;
  files: number;
  bytes: number;
}

export interface ExportResult {
  tables: ExportedTable[];
  seconds: number;
}

/**
 * @example
 *   const { tables } = await exportParquet(wh, { out: 'export/' });
 *   // [{ table: 'songplays', location: 'export/songplays.parquet', rows: 6820, bytes: 61234 }, …]
 */
export async function exportParquet(wh: Warehouse, options: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  const s3 = /^s3:\/\//i.test(options.out) ? parseS3Location(options.out) : undefined;
  if (/^s3:\/\//i.test(options.out) && !s3) {
    throw new SparkifyError('CONFIG_INVALID', `"${options.out}" names no bucket (expected s3://bucket/prefix).`, { hint: 'Give --out a folder or s3://bucket/prefix.' });
  }
  const local = s3 ? await mkdtemp(path.join(os.tmpdir(), 'sparkify-export-')) : path.resolve(options.out);
  const tables = options.tables ?? STAR_TABLES;
  const written: ExportedTable[] = [];
  try {
    await mkdir(local, { recursive: true });
    const { duckdb } = await import('../warehouses/duckdb/duckdb-api.js');
    const engine = wh.kind === 'duckdb' ? undefined : await duckdb.DuckDBInstance.create(':memory:');
    const conn = await engine?.connect();
    try {
      for (const table of tables) {
        const layout = PARTITIONS[table.name];
        const target = path.join(local, layout ? table.name : `${table.name}.parquet`);
        const rows = conn ? await viaDuckDB(wh, conn, table, target, local, options.pageRows ?? 100_000) : await fromDuckDB(wh, table, target);
        const files = layout ? await filesUnder(target) : [target];
        let bytes = 0;
        for (const f of files) bytes += (await stat(f)).size;
        written.push({ table: table.name, location: layout ? `${target}${path.sep}` : target, ...(layout ? { partitionedBy: layout.by } : {}), rows, files: files.length, bytes });
      }
    } finally {
      conn?.closeSync();
      engine?.closeSync();
    }
    if (s3) {
      for (const t of written) t.location = await upload(local, t.location, s3, options.s3 ?? {});
    }
  } catch (err) {
    if (err instanceof SparkifyError) throw err;
    throw new SparkifyError('EXPORT_FAILED', `Exporting to ${options.out} failed: ${firstLine(messageOf(err))}.`, {
      cause: err,
      hint: 'Check that the destination can be written (a folder, or a bucket your AWS identity may PutObject to).',
    });
  } finally {
    if (s3) await rm(local, { recursive: true, force: true });
  }
  return { tables: written, seconds: Math.round(performance.now() - started) / 1000 };
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** `COPY (SELECT … FROM source) TO target`, whole or partitioned as PARTITIONS says. */
function copySql(table: Table, source: string, target: string): string {
  const layout = PARTITIONS[table.name];
  const select = `SELECT ${columns(table)}${layout?.derived ? `, ${layout.derived}` : ''} FROM ${source} ORDER BY ${table.primaryKey!.join(', ')}`;
  return `COPY (${select}) TO ${quote(target)} (FORMAT parquet${layout ? `, PARTITION_BY (${layout.by.join(', ')}), OVERWRITE true` : ''})`;
}

/** DuckDB writes its own table; its COPY answers how many rows it wrote (no reading the files back). */
async function fromDuckDB(wh: Warehouse, table: Table, target: string): Promise<number> {
  const [row] = await wh.query<{ Count: number }>(copySql(table, table.name, target));
  return Number(row?.Count ?? 0);
}

/** Every file below `dir`, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

type DuckConn = Awaited<ReturnType<Awaited<ReturnType<typeof import('@duckdb/node-api').DuckDBInstance.create>>['connect']>>;

/**
 * A server warehouse's table, a page at a time in key order, through NDJSON
 * pages that an in-memory DuckDB types by tables.ts and writes as one file.
 */
async function viaDuckDB(wh: Warehouse, conn: DuckConn, table: Table, file: string, dir: string, pageRows: number): Promise<number> {
  const key = table.primaryKey!;
  if (key.length !== 1) throw new SparkifyError('INTERNAL', `Export pages by a one-column key; ${table.name} has ${key.length}.`);
  const k = key[0]!;
  const pages = path.join(dir, `.${table.name}-pages`);
  await mkdir(pages, { recursive: true });
  let last: Row[string] | undefined;
  let rows = 0;
  let page = 0;
  try {
    for (;;) {
      const where = last === undefined ? '' : ` WHERE ${k} > ${literal(wh, last)}`;
      const batch = await wh.query(`SELECT ${columns(table)} FROM ${table.name}${where} ORDER BY ${k} LIMIT ${pageRows}`);
      if (batch.length === 0) break;
      const out = createWriteStream(path.join(pages, `${String(page++).padStart(6, '0')}.json`));
      for (const r of batch) out.write(`${JSON.stringify(r, bigintAsText)}\n`);
      out.end();
      await finished(out);
      rows += batch.length;
      last = batch.at(-1)![k];
      if (batch.length < pageRows) break;
    }
    const types = `{${table.columns.map((c) => `${quote(c.name)}: ${quote(duckdbType(c))}`).join(', ')}}`;
    const source = rows === 0 ? `(SELECT ${table.columns.map((c) => `CAST(NULL AS ${duckdbType(c)}) AS ${c.name}`).join(', ')} WHERE false)` : `read_json(${quote(path.join(pages, '*.json'))}, format = 'newline_delimited', columns = ${types})`;
    await conn.run(copySql(table, source, file));
    return rows;
  } finally {
    await rm(pages, { recursive: true, force: true });
  }
}

/** A column's DuckDB type: DuckDB's dialect is the base one (VARCHAR, INTEGER, BIGINT, DOUBLE PRECISION, TIMESTAMP). */
function duckdbType(c: Table['columns'][number]): string {
  return baseDialect.typeName(c.type, c);
}

function columns(table: Table): string {
  return table.columns.map((c) => c.name).join(', ');
}


/** A key value as a literal of the warehouse's SQL: numbers as they are, text and timestamps quoted. */
function literal(wh: Warehouse, v: Row[string]): string {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return wh.dialect.quoteString(String(v));
}

/** Uploads a file, or every file of a partitioned table's folder, below `s3://bucket/prefix/`, keeping the layout; returns the URI. */
async function upload(root: string, location: string, s3: { bucket: string; prefix: string }, options: SourceOptions): Promise<string> {
  const { PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
  const endpoint = options.s3Endpoint?.replace(/\/+$/, '');
  const client = new S3Client({
    ...(options.s3Region ? { region: options.s3Region } : {}),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // A checksum only where S3 requires one: a streamed body is then sent as it is, not aws-chunked with a
    // trailer, which S3-compatible stores (MinIO, s3rver) may store verbatim.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const base = s3.prefix ? `${s3.prefix.replace(/\/+$/, '')}/` : '';
  const folder = location.endsWith(path.sep);
  const files = folder ? await filesUnder(location) : [location];
  try {
    for (const file of files) {
      const key = base + path.relative(root, file).split(path.sep).join('/');
      const size = (await stat(file)).size;
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: createReadStream(file), ContentLength: size, ContentType: 'application/vnd.apache.parquet' }));
    }
  } finally {
    client.destroy();
  }
  return `s3://${s3.bucket}/${base}${path.relative(root, location).split(path.sep).join('/')}${folder ? '/' : ''}`;
}
