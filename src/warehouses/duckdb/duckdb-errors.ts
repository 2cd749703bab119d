import { firstLine, messageOf, SparkifyError } from '../../errors.js';

/** DuckDB's errors, classified once at the seam: a file held by another process, a missing table, anything else. */
export function classifyOpenError(err: unknown, location: string): SparkifyError {
  const message = messageOf(err);
  if (/Could not set lock|Conflicting lock/i.test(message)) {
    const pid = /PID (\d+)/.exec(message)?.[1];
    return new SparkifyError('WAREHOUSE_LOCKED', `The DuckDB file ${location} is in use by another process${pid ? ` (PID ${pid})` : ''}.`, {
      cause: err,
      hint: 'Wait for the other sparkify run (or program holding the file) to finish, or use another --warehouse file.',
    });
  }
  return new SparkifyError('WAREHOUSE_UNREACHABLE', `Could not open the DuckDB file ${location}: ${firstLine(message)}`, {
    cause: err,
    hint: 'Check that the path is writable and is a DuckDB database (not another kind of file).',
  });
}

/** A failed statement; the SQL rides on the error, shown with --verbose. */
export function queryError(err: unknown, sql: string): SparkifyError {
  const message = messageOf(err);
  const missing = /Table with name (\w+) does not exist/i.exec(message);
  if (missing) {
    return new SparkifyError('WAREHOUSE_NOT_READY', `Table ${missing[1]} does not exist in this warehouse.`, {
      cause: err,
      hint: 'Run `sparkify create-tables` first (or `sparkify run`, which does both).',
    });
  }
  return new SparkifyError('WAREHOUSE_QUERY_FAILED', `DuckDB: ${firstLine(message)}`, { cause: err, sql });
}
