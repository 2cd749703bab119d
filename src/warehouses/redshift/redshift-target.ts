import type { ConfigIssue } from '../../errors.js';
import { describeConnection, type PostgresConnection } from '../postgres/postgres-target.js';
import type { LoadErrorTable } from './redshift-load-errors.js';

/**
 * Redshift's targets, one per transport, and what only Redshift needs: the
 * options of its COPY from S3. They live here, not in the pipeline's options.
 */

/** What Redshift's COPY needs beyond the location: who reads S3, how events map to columns, where the bucket is. */
export interface RedshiftCopyOptions {
  /** The role COPY assumes to read S3 (`[IAM_ROLE] ARN`); the cluster's default IAM role when absent. */
  iamRoleArn?: string;
  /** The event log's JSONPaths file (`[S3] LOG_JSONPATH`), an `s3://` object; fields map by name when absent. */
  logJsonPaths?: string;
  /** The bucket's region; the cluster's own when absent. */
  region?: string;
}

/** Redshift over its PostgreSQL wire protocol (TLS, port 5439). */
export interface RedshiftTarget {
  kind: 'redshift';
  connection: PostgresConnection;
  schema: string;
  copy: RedshiftCopyOptions;
}

/** How the Data API reaches the database: a Serverless workgroup, or a provisioned cluster with a database user or a secret. */
export type DataApiConnection = { database: string; dbUser?: string; secretArn?: string } & (
  | { workgroupName: string; clusterIdentifier?: undefined }
  | { clusterIdentifier: string; workgroupName?: undefined }
);

/** Redshift through the Data API (HTTPS and IAM; no open port, no password here). */
export interface RedshiftDataApiTarget {
  kind: 'redshift-data-api';
  dataApi: DataApiConnection;
  schema: string;
  /** The Data API's region; the AWS chain's when absent. */
  region?: string;
  copy: RedshiftCopyOptions;
}

/** `<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com`. */
export function isServerlessHost(host: string): boolean {
  return /\.redshift-serverless\.amazonaws\.com(\.cn)?$/i.test(host);
}

/** A Redshift endpoint: a provisioned cluster's (`….redshift.amazonaws.com`) or a Serverless workgroup's. */
export function isRedshiftHost(host: string): boolean {
  return /\.redshift\.amazonaws\.com(\.cn)?$/i.test(host) || isServerlessHost(host);
}

/**
 * Where a target's COPY errors are read back: SYS_LOAD_ERROR_DETAIL on
 * Serverless (a workgroup, or its endpoint), STL_LOAD_ERRORS on a provisioned cluster.
 */
export function loadErrorTableFor(target: RedshiftTarget | RedshiftDataApiTarget): LoadErrorTable {
  const serverless = target.kind === 'redshift' ? isServerlessHost(target.connection.host) : target.dataApi.workgroupName !== undefined;
  return serverless ? 'sys' : 'stl';
}

/** `Redshift awsuser@host:5439/dev (schema public)`, safe to print. */
export function describeRedshift(t: Pick<RedshiftTarget, 'connection' | 'schema'>): string {
  return describeConnection('Redshift', t.connection, t.schema);
}

/** `cluster x` or `workgroup y`. */
export function dataApiName(c: DataApiConnection): string {
  return c.workgroupName !== undefined ? `workgroup ${c.workgroupName}` : `cluster ${c.clusterIdentifier}`;
}

/** `Redshift Data API workgroup sparkify/dev in us-west-2 (schema public)`, safe to print. */
export function describeRedshiftDataApi(t: Pick<RedshiftDataApiTarget, 'dataApi' | 'schema' | 'region'>): string {
  return `Redshift Data API ${dataApiName(t.dataApi)}/${t.dataApi.database}${t.region ? ` in ${t.region}` : ''} (schema ${t.schema})`;
}

/** A source location as the COPY rules see it: its URI, and the endpoint it is read from when not Amazon S3's. */
export interface CopySourceLocation {
  uri: string;
  customEndpoint?: string;
}

const AMAZON_S3 = /\.amazonaws\.com(\.cn)?(:\d+)?(\/|$)/;

/**
 * What stops COPY from loading a location, before anything runs: Redshift reads
 * Amazon S3 only, and a JSONPaths file must be an S3 object outside the data it
 * describes (or COPY loads it as data). `where` names the setting, for messages.
 *
 * @example
 *   copyLocationIssues({ uri: '/home/me/logs' }, '--logs', { logJsonPaths: 's3://b/paths.json' }, true);
 *   // [{ where: '--logs', message: 'Redshift loads only from Amazon S3, and /home/me/logs is a folder on this machine …' }]
 */
export function copyLocationIssues(location: CopySourceLocation, where: string, copy: RedshiftCopyOptions, isEventLog: boolean): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!/^s3:\/\//i.test(location.uri)) {
    issues.push({
      where,
      message:
        `Redshift loads only from Amazon S3, and ${location.uri} is a folder on this machine: upload it (aws s3 sync <folder> s3://<bucket>/<prefix>) ` +
        'and give that s3:// location, or load it here with --warehouse duckdb (or a postgres:// URL)',
    });
    return issues;
  }
  if (location.customEndpoint !== undefined && !AMAZON_S3.test(location.customEndpoint)) {
    issues.push({
      where,
      message: `Redshift's COPY reads Amazon S3 only, not the S3-compatible endpoint ${location.customEndpoint}: copy the files to an Amazon S3 bucket, or load them with --warehouse duckdb or postgres`,
    });
  }
  const paths = copy.logJsonPaths;
  if (isEventLog && paths !== undefined && paths !== '') {
    if (!/^s3:\/\/[^/]+\/.+/i.test(paths)) {
      issues.push({ where: 'JSONPaths file ([S3] LOG_JSONPATH)', message: `"${paths}" is not an s3:// object; Redshift's COPY reads it from S3 (e.g. s3://udacity-dend/log_json_path.json), or leave it empty to map fields by name` });
    } else if (paths.startsWith(`${location.uri.replace(/\/+$/, '')}/`) || paths === location.uri) {
      issues.push({ where: 'JSONPaths file ([S3] LOG_JSONPATH)', message: `${paths} lies under the event log location ${location.uri}, so COPY would also load it as data: keep it outside that folder` });
    }
  }
  return issues;
}
