/**
 * sparkify-dwh: build Sparkify's song-play star schema from raw JSON on
 * embedded DuckDB, PostgreSQL or Amazon Redshift.
 *
 * @example
 *   import { loadConfig, openWarehouse, createTables, etl } from 'sparkify-dwh';
 *   const { config } = loadConfig();
 *   const wh = await openWarehouse(config!.warehouse);
 *   try {
 *     await createTables(wh);
 *     const report = await etl(wh, { songs: config!.songs, logs: config!.logs });
 *     console.log(report.counts);
 *   } finally {
 *     await wh.close();
 *   }
 */
export { loadConfig, describeTarget, redactUrl, SAMPLE_DIR, DEFAULT_DUCKDB_FILE } from './config.js';
export type { Config, ConfigFlags, WarehouseTarget, PostgresConnection, LoadConfigResult } from './config.js';
export { SparkifyError, ConfigError, isSparkifyError, toSparkifyError } from './errors.js';
export type { ErrorCode, ConfigIssue } from './errors.js';
export { createTables, etl, countRows } from './pipeline.js';
export type { EtlOptions, EtlReport, StageInfo, StageName, PipelineEvent, PipelineOptions } from './pipeline.js';
export { openWarehouse } from './warehouses/open-warehouse.js';
export type { Warehouse, SqlDialect, SqlValue, Row, StagingInput, StagingLoadResult } from './warehouses/warehouse.js';
export { openSource } from './sources/open-source.js';
export type { Source, SourceFile, SourceOptions } from './sources/source.js';
export { readRecords } from './sources/records.js';
export { ALL_TABLES, STAGING_TABLES, STAR_TABLES, tableByName } from './schema/tables.js';
export type { Table, Column, ColumnType, TableName } from './schema/tables.js';
export { coerceRecord, coerceValue } from './schema/coerce.js';
// The Redshift cluster's life (IAM role, cluster or Serverless workgroup,
// network access) lives at `sparkify-dwh/cluster`, so that importing the
// pipeline never loads the AWS SDK.
