/**
 * sparkify-dwh: build Sparkify's song-play star schema from raw JSON on
 * embedded DuckDB, PostgreSQL or Amazon Redshift.
 *
 * @example
 *   import { loadConfig, ConfigError, openWarehouse, createTables, etl } from 'sparkify-dwh';
 *   const { config, issues } = loadConfig();
 *   if (!config) throw new ConfigError(issues);
 *   const wh = await openWarehouse(config.warehouse);
 *   try {
 *     await createTables(wh);
 *     const report = await etl(wh, { songs: config.songs, logs: config.logs });
 *     console.log(report.counts);
 *   } finally {
 *     await wh.close();
 *   }
 */
export { loadConfig } from './config/config.js';
export type { Config, ConfigFlags, LoadConfigOptions, LoadConfigResult } from './config/config.js';
export { readConfigLayers, resolveRegion } from './config/layers.js';
export type { ConfigLayers, Sourced } from './config/layers.js';
export { findDwhCfg, readDwhCfg, updateDwhCfg } from './config/dwh-cfg.js';
export type { DwhCfgSections, DwhCfgUpdate } from './config/dwh-cfg.js';
export { setIniValues } from './config/ini-edit.js';
export { SAMPLE_DIR } from './config/paths.js';
export { redactUrl } from './config/redact.js';
export { SparkifyError, ConfigError, isSparkifyError, toSparkifyError } from './errors.js';
export type { ErrorCode, ConfigIssue } from './errors.js';
export { createTables, countRows } from './pipeline/create-tables.js';
export { doctor, DOCTOR_CHECKS } from './pipeline/doctor.js';
export type { DoctorCheck, DoctorOptions, DoctorReport, DoctorStatus } from './pipeline/doctor.js';
export { loadStatus, type LoadStatus, type FilesStatus, type LogFilesStatus, type DayRange, type RunStatus } from './pipeline/status.js';
export { etl } from './pipeline/etl.js';
export type { EtlOptions } from './pipeline/etl.js';
export type { EtlReport, StageInfo, StageName, PipelineEvent, PipelineOptions, RetryInfo } from './pipeline/report.js';
export type { RetryOptions } from './pipeline/retry.js';
export { openWarehouse, describeTarget } from './warehouses/open-warehouse.js';
export type { WarehouseTarget } from './warehouses/open-warehouse.js';
export type { Warehouse, SqlValue, Row, StagingInput, StagingLoadResult } from './warehouses/warehouse.js';
export { DEFAULT_DUCKDB_FILE } from './warehouses/duckdb/duckdb-target.js';
export type { DuckDBTarget } from './warehouses/duckdb/duckdb-target.js';
export type { PostgresConnection, PostgresTarget } from './warehouses/postgres/postgres-target.js';
export type { RedshiftTarget, RedshiftDataApiTarget, RedshiftCopyOptions, DataApiConnection } from './warehouses/redshift/redshift-target.js';
export type { SqlDialect } from './schema/dialect.js';
export { openSource } from './sources/open-source.js';
export type { Source, SourceFile, SourceOptions } from './sources/source.js';
export { readRecords } from './sources/records.js';
export { ALL_TABLES, STAGING_TABLES, STAR_TABLES, tableByName } from './schema/tables.js';
export type { Table, Column, ColumnType, TableName } from './schema/tables.js';
export { coerceRecord, coerceValue } from './schema/coerce.js';
export { builtInChecks, checksFailed, loadCheckFiles, runChecks } from './analytics/checks.js';
export type { Check, CheckOptions, CheckResult, Severity } from './analytics/checks.js';
export { runQuery } from './analytics/query.js';
export { matchBreakdown, MATCH_REASONS } from './analytics/match.js';
export type { MatchReason } from './analytics/match.js';
export { exportParquet } from './analytics/export.js';
export { buildReport } from './analytics/report.js';
export { reportHtml } from './analytics/report-html.js';
export type { Figure, Report } from './analytics/report.js';
export type { ExportOptions, ExportResult, ExportedTable } from './analytics/export.js';
export type { QueryOptions, QueryResult } from './analytics/query.js';
export { dryRun } from './pipeline/dry-run.js';
export type { DryRun, DryRunCommand } from './pipeline/dry-run.js';
export { credentialsWithFallback } from './aws/credentials.js';
export type { AwsKeys } from './aws/credentials.js';
export { generate } from './generate/generate.js';
export type { GenerateOptions, GenerateManifest, GenerateProgress } from './generate/generate.js';
// The Redshift cluster's life (IAM role, cluster or Serverless workgroup,
// network access) lives at `sparkify-dwh/cluster`, so that importing the
// pipeline never loads the AWS SDK.
