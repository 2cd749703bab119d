import type pg from 'pg';
import { plural, SparkifyError } from '../../errors.js';
import { coerceRecord, INT32_MAX, INT32_MIN, rejectRawText } from '../../schema/coerce.js';
import { FILE_ID, type Table } from '../../schema/tables.js';
import { readRecords } from '../../sources/records.js';
import { CopyIn, copyLine } from './postgres-copy.js';
import { fastCopyLine, fastTable } from './postgres-fast-copy.js';
import type { PlannedStatement, StagingInput, StagingLoadResult } from '../warehouse.js';

/** Rejected records sent per COPY into etl_rejects; bounds what is held in memory. */
const REJECT_BATCH = 5_000;

/**
 * Loads a staging table through one client: every record is typed in Node with
 * the shared rules (in one pass over its text, postgres-fast-copy.ts, or by
 * `coerceRecord` when that pass defers), good rows are streamed with
 * `COPY … FROM STDIN`, rejects go to etl_rejects. One connection runs one COPY
 * at a time, so rejects are sent between COPYs of rows, a few thousand at a
 * time. Memory stays bounded: a batch of records, and at most REJECT_BATCH rejects.
 * Errors are thrown as they come (the warehouse classifies them); a COPY cut
 * short is cancelled so that the client can roll back. With the input's
 * fileIds, each row ends with its file's id, in file_id.
 *
 * @example
 *   const { rows, rejected } = await copyStaging(client, stagingEvents, { into: { rows: 'staging_events', rejects: 'etl_rejects' }, source, files, format: 'ndjson' });
 */
export async function copyStaging(client: pg.Client, table: Table, input: StagingInput): Promise<StagingLoadResult> {
  const fileIds = checkedFileIds(input);
  const rowsSql = copyRowsSql(table, input.into.rows, fileIds !== undefined);
  const result: StagingLoadResult = { rows: 0, rejected: 0, bytes: 0 };
  const ft = fastTable(table);
  // What ends each row's line: its file's id as a COPY field (nothing when file_id stays NULL).
  const tails = fileIds?.map((id) => `\t${id}`);
  let rejects: string[] = [];
  let records = 0;
  let files = 0;
  let copy: CopyIn | undefined;
  try {
    copy = CopyIn.start(client, rowsSql);
    for await (const batch of readRecords(input.source, input.files, input.format)) {
      input.signal?.throwIfAborted();
      result.bytes += batch.bytes;
      result.invalidUtf8 = (result.invalidUtf8 ?? 0) + batch.invalidUtf8;
      let out = '';
      const n = batch.text.length;
      for (let i = 0; i < n; i++) {
        const text = batch.text[i]!;
        const tail = tails ? tails[batch.file[i]!]! : '';
        const fast = fastCopyLine(ft, text, tail);
        if (fast !== undefined) {
          out += fast;
          result.rows++;
          continue;
        }
        const c = coerceRecord(table, text);
        if (c.ok) {
          out += copyLine(c.values, tail);
          result.rows++;
        } else {
          rejects.push(copyLine([table.name, input.files[batch.file[i]!]!.uri, batch.line[i]!, c.reason, rejectRawText(text)]));
          result.rejected++;
        }
      }
      if (out.length > 0) await copy.write(out);
      records += n;
      if (n > 0) files = batch.file[n - 1]! + 1;
      input.onProgress?.({ records, bytes: result.bytes, files });
      if (rejects.length >= REJECT_BATCH) {
        const running = copy;
        copy = undefined;
        await running.end();
        await copyRejects(client, input.into.rejects, rejects);
        rejects = [];
        copy = CopyIn.start(client, rowsSql);
      }
    }
    const running = copy;
    copy = undefined;
    await running.end();
    await copyRejects(client, input.into.rejects, rejects);
  } catch (err) {
    await copy?.abort(err);
    throw err;
  }
  return result;
}

async function copyRejects(client: pg.Client, into: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const copy = CopyIn.start(client, copyRejectsSql(into));
  try {
    for (let i = 0; i < lines.length; i += 500) await copy.write(lines.slice(i, i + 500).join(''));
    await copy.end();
  } catch (err) {
    await copy.abort(err);
    throw err;
  }
}

function copyRowsSql(table: Table, into: string, fileIds: boolean): string {
  const columns = table.columns.map((c) => c.name);
  if (fileIds) columns.push(FILE_ID.name);
  return `COPY ${into} (${columns.join(', ')}) FROM STDIN`;
}

/** The input's file ids, checked against its files: one 32-bit integer per file. */
function checkedFileIds(input: StagingInput): readonly number[] | undefined {
  const ids = input.fileIds;
  if (ids === undefined) return undefined;
  if (ids.length !== input.files.length) throw new SparkifyError('INTERNAL', `${plural(ids.length, 'file id')} for ${plural(input.files.length, 'file')}.`);
  const bad = ids.find((id) => !Number.isInteger(id) || id < INT32_MIN || id > INT32_MAX);
  if (bad !== undefined) throw new SparkifyError('INTERNAL', `File id ${bad} is not a 32-bit integer.`);
  return ids;
}

function copyRejectsSql(into: string): string {
  return `COPY ${into} (target_table, source, line, reason, raw) FROM STDIN`;
}

/** A load's statements for a dry run: the records stream from this machine, converted here by the shared rules. */
export function postgresLoadPlan(table: Table, input: StagingInput): PlannedStatement[] {
  const n = input.files.length;
  return [
    {
      sql: copyRowsSql(table, input.into.rows, input.fileIds !== undefined),
      note: `the records of ${plural(n, 'file')} under ${input.source.uri}, read and converted here${input.fileIds ? ", each row with its file's id" : ''}`,
    },
    { sql: copyRejectsSql(input.into.rejects), note: 'the records the rules reject, with file, line and reason (only when there are any)' },
  ];
}
