/**
 * The Redshift cluster's life: create (role, cluster or Serverless workgroup,
 * network access, wait, dwh.cfg), status, delete. Infrastructure, not a
 * warehouse: the warehouses connect to what this makes.
 *
 * @example
 *   const layers = readConfigLayers({ env: process.env, cwd: process.cwd() });
 *   const { settings, issues } = clusterSettingsFromConfig({ sections: layers.sections, region: resolveRegion(layers, undefined), requirePassword: true });
 *   if (!settings) throw new ConfigError(issues);
 *   const clients = createClusterClients({ region: settings.region });
 *   try {
 *     await createCluster({ settings, clients, discoverIp: discoverPublicIp, configFile: layers.file, onProgress });
 *   } finally {
 *     destroyClusterClients(clients);
 *   }
 */
export { createCluster } from './create.js';
export type { CreateClusterOptions, CreateClusterResult } from './create.js';
export { clusterStatus } from './status.js';
export type { ClusterStatus, ClusterStatusOptions } from './status.js';
export { deleteCluster } from './delete.js';
export type { DeleteClusterOptions, DeleteClusterResult } from './delete.js';
export { clusterSettingsFromConfig, DEFAULT_NAME, DEFAULT_ROLE_NAME } from './settings.js';
export type { ClusterKind, ClusterSettings, ClusterSettingsInput, ClusterSettingsResult, ProvisionedSettings, ServerlessSettings } from './settings.js';
export { createClusterClients, destroyClusterClients } from './clients.js';
export type { ClusterClients } from './clients.js';
export { discoverPublicIp } from './public-ip.js';
export { hostCidr } from './ingress.js';
export type { IngressChoice } from './ingress.js';
export type { ClusterEvent, ClusterRunOptions, ClusterStep } from './progress.js';
export type { Endpoint, Phase } from './deployment.js';
export type { RoleStatus } from './iam-role.js';
