import type { ColumnMetadata, Field } from '@aws-sdk/client-redshift-data';
import { parseTimestamp, parseTimestamptz } from '../../postgres/postgres-types.js';
import { normaliseBigint } from '../../values.js';
import type { Row, SqlValue } from '../../warehouse.js';

/** One Data API record as a row keyed by column name. */
export function toRow(record: readonly Field[], columns: readonly ColumnMetadata[]): Row {
  const row: Row = {};
  record.forEach((field, i) => {
    const column = columns[i];
    row[column?.name ?? column?.label ?? `column${i + 1}`] = dataApiValue(field, column?.typeName);
  });
  return row;
}

/**
 * One typed field as the other warehouses return it. The Data API sends
 * integers as `longValue` (JSON numbers: exact up to 2^53), floats as
 * `doubleValue`, and timestamps, numerics and text as `stringValue`.
 */
export function dataApiValue(field: Field, typeName: string | undefined): SqlValue {
  if (field.isNull) return null;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue).toString('hex');
  const s = field.stringValue;
  if (s === undefined) return null;
  switch ((typeName ?? '').toLowerCase()) {
    case 'timestamp':
      return parseTimestamp(s.replace('T', ' '));
    case 'timestamptz':
      return parseTimestamptz(s.replace('T', ' '));
    case 'int2':
    case 'int4':
    case 'int8':
    case 'integer':
    case 'bigint':
    case 'smallint':
      return /^-?\d+$/.test(s) ? normaliseBigint(BigInt(s)) : s;
    case 'numeric':
      return /^-?\d+$/.test(s) ? normaliseBigint(BigInt(s)) : Number(s);
    case 'float4':
    case 'float8':
    case 'float':
    case 'real':
    case 'double precision':
      return Number.parseFloat(s);
    case 'bool':
    case 'boolean':
      return s === 't' || s === 'true';
    default:
      return s;
  }
}
