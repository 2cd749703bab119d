import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { RedshiftClient } from '@aws-sdk/client-redshift';
import { RedshiftServerlessClient } from '@aws-sdk/client-redshift-serverless';
import type { AwsCredentialsProvider } from '../aws/credentials.js';
import { quietAwsSdk } from '../aws/quiet.js';

/**
 * The four AWS control-plane clients the cluster commands use. They are
 * injected so tests can mock them (aws-sdk-client-mock) and so a caller can
 * share clients, set a profile or an endpoint.
 */
export interface ClusterClients {
  iam: IAMClient;
  redshift: RedshiftClient;
  redshiftServerless: RedshiftServerlessClient;
  ec2: EC2Client;
}

/**
 * Real clients. The region comes from `region` when given, else the standard
 * AWS chain (AWS_REGION, the profile's region); credentials from the chain, or
 * `credentials` (the chain, then dwh.cfg's [AWS] keys: aws/credentials.ts).
 *
 * @example
 *   const clients = createClusterClients({ region: 'us-west-2' });
 *   try { await clusterStatus({ settings, clients }); } finally { destroyClusterClients(clients); }
 */
export function createClusterClients(options: { region?: string; credentials?: AwsCredentialsProvider } = {}): ClusterClients {
  quietAwsSdk();
  const config = { ...(options.region ? { region: options.region } : {}), ...(options.credentials ? { credentials: options.credentials } : {}) };
  return {
    iam: new IAMClient(config),
    redshift: new RedshiftClient(config),
    redshiftServerless: new RedshiftServerlessClient(config),
    ec2: new EC2Client(config),
  };
}

/** Closes the clients' sockets. Idempotent. */
export function destroyClusterClients(clients: ClusterClients): void {
  clients.iam.destroy();
  clients.redshift.destroy();
  clients.redshiftServerless.destroy();
  clients.ec2.destroy();
}
