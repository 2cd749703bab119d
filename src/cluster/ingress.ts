import { isIPv4, isIPv6 } from 'node:net';
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { SparkifyError } from '../errors.js';
import { isAwsError } from '../aws/aws-errors.js';
import { awsCall, classifyAwsError } from './cluster-errors.js';
import type { ClusterContext } from './progress.js';

/**
 * Network access: one inbound TCP rule on the cluster's VPC security groups,
 * for the Redshift port, from the caller's own address only (/32, or /128 for
 * IPv6). The rules sparkify adds carry a tag naming the deployment, so
 * `delete` revokes exactly those and never a rule the user made.
 */

export const INGRESS_TAG_KEY = 'sparkify-dwh';
export const WORLD_CIDR = '0.0.0.0/0';

export interface IngressChoice {
  /** The caller's public address (`203.0.113.7` or `203.0.113.7/32`). */
  callerIp?: string;
  /** Finds the caller's public address when `callerIp` is not given. */
  discoverIp?: (signal?: AbortSignal) => Promise<string>;
  /** Allow every address (0.0.0.0/0). Only when the user asked for it explicitly. */
  openToWorld?: boolean;
}

/** The single CIDR to allow: the caller's /32 by default, 0.0.0.0/0 only when asked. */
export async function chooseCidr(ctx: ClusterContext, choice: IngressChoice): Promise<string> {
  if (choice.openToWorld) {
    ctx.emit({ step: 'network', status: 'warning', message: `opening port ${ctx.settings.port} to every address (${WORLD_CIDR}) as asked; anyone can try to log in` });
    return WORLD_CIDR;
  }
  if (choice.callerIp) return hostCidr(choice.callerIp);
  if (!choice.discoverIp) {
    throw new SparkifyError('CLUSTER_FAILED', 'Cannot tell which address to allow through the security group: no caller IP was given.', {
      hint: 'Pass your public IP address (e.g. `--my-ip 203.0.113.7`); `curl https://checkip.amazonaws.com` shows it.',
    });
  }
  return hostCidr(await choice.discoverIp(ctx.signal));
}

/** `203.0.113.7` → `203.0.113.7/32`; a wider range is refused (use `openToWorld` for that). */
export function hostCidr(ip: string): string {
  const [address = '', prefix] = ip.trim().split('/');
  if (isIPv4(address) && (prefix === undefined || prefix === '32')) return `${address}/32`;
  if (isIPv6(address) && (prefix === undefined || prefix === '128')) return `${address}/128`;
  throw new SparkifyError('CONFIG_INVALID', `"${ip}" is not a single IP address (expected e.g. 203.0.113.7).`, {
    hint: 'Give one address; sparkify opens the Redshift port to that address only.',
  });
}

/** Adds the rule to each group; a rule that already exists is fine. Returns the groups where it was added now. */
export async function authorizeIngress(ctx: ClusterContext, groupIds: string[], cidr: string, tag: string): Promise<string[]> {
  const port = ctx.settings.port;
  const v6 = cidr.includes(':');
  const added: string[] = [];
  for (const groupId of groupIds) {
    const range = { Description: `sparkify-dwh: Redshift ${tag}` };
    try {
      await ctx.clients.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: port,
              ToPort: port,
              ...(v6 ? { Ipv6Ranges: [{ CidrIpv6: cidr, ...range }] } : { IpRanges: [{ CidrIp: cidr, ...range }] }),
            },
          ],
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: INGRESS_TAG_KEY, Value: tag }] }],
        }),
      );
      added.push(groupId);
      ctx.emit({ step: 'network', status: 'done', message: `allowed TCP ${port} from ${cidr} in security group ${groupId}` });
    } catch (err) {
      if (!isAwsError(err, 'InvalidPermission.Duplicate')) {
        throw classifyAwsError(err, { permission: 'ec2:AuthorizeSecurityGroupIngress', doing: `allow TCP ${port} from ${cidr} in security group ${groupId}`, alsoNeeds: 'ec2:CreateTags', resumable: true });
      }
      ctx.emit({ step: 'network', status: 'skipped', message: `TCP ${port} from ${cidr} is already allowed in security group ${groupId}` });
    }
  }
  return added;
}

/** The inbound rules sparkify added for this deployment, in any security group. */
export async function listTaggedIngress(ctx: ClusterContext, tag: string): Promise<SecurityGroupRule[]> {
  const rules: SecurityGroupRule[] = [];
  let token: string | undefined;
  do {
    const out = await awsCall({ permission: 'ec2:DescribeSecurityGroupRules', doing: `list the security group rules sparkify added for ${tag}` }, () =>
      ctx.clients.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: `tag:${INGRESS_TAG_KEY}`, Values: [tag] }], NextToken: token })),
    );
    rules.push(...(out.SecurityGroupRules ?? []).filter((r) => !r.IsEgress));
    token = out.NextToken;
  } while (token);
  return rules;
}

/** Revokes every rule sparkify added for this deployment. Returns how many were revoked. */
export async function revokeTaggedIngress(ctx: ClusterContext, tag: string): Promise<number> {
  const rules = await listTaggedIngress(ctx, tag);
  if (rules.length === 0) {
    ctx.emit({ step: 'network', status: 'skipped', message: 'no inbound rule added by sparkify to revoke' });
    return 0;
  }
  const byGroup = new Map<string, string[]>();
  for (const r of rules) {
    if (r.GroupId && r.SecurityGroupRuleId) byGroup.set(r.GroupId, [...(byGroup.get(r.GroupId) ?? []), r.SecurityGroupRuleId]);
  }
  let revoked = 0;
  for (const [groupId, ids] of byGroup) {
    try {
      await ctx.clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ids }));
      revoked += ids.length;
      ctx.emit({ step: 'network', status: 'done', message: `revoked ${ids.length} inbound rule${ids.length === 1 ? '' : 's'} from security group ${groupId}` });
    } catch (err) {
      if (!isAwsError(err, 'InvalidPermission.NotFound', 'InvalidSecurityGroupRuleId.NotFound', 'InvalidGroup.NotFound')) {
        throw classifyAwsError(err, { permission: 'ec2:RevokeSecurityGroupIngress', doing: `revoke the inbound rules sparkify added to security group ${groupId}`, resumable: true });
      }
    }
  }
  return revoked;
}
