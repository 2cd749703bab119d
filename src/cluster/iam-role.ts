import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  type AttachedPolicy,
  type Role,
} from '@aws-sdk/client-iam';
import { SparkifyError } from '../errors.js';
import { isAwsError } from '../aws/aws-errors.js';
import { awsCall, classifyAwsError } from './cluster-errors.js';
import type { ClusterContext } from './progress.js';

/**
 * The IAM role Redshift assumes to read S3: trusted by redshift.amazonaws.com,
 * with AWS's managed AmazonS3ReadOnlyAccess attached. sparkify tags the roles
 * it creates and deletes only those, so a role the user already had (and
 * pointed [IAM_ROLE] NAME at) is never deleted.
 */

export const S3_READ_ONLY_POLICY = 'AmazonS3ReadOnlyAccess';
export const MANAGED_TAG = { Key: 'sparkify-dwh', Value: 'managed' } as const;

export const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'redshift.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

export interface RoleStatus {
  name: string;
  exists: boolean;
  arn?: string;
  s3ReadOnlyAttached: boolean;
  /** Created (tagged) by sparkify, so `delete` removes it. */
  createdBySparkify: boolean;
}

/** `arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess`, in the role's partition (aws, aws-cn, aws-us-gov). */
export function s3ReadOnlyPolicyArn(roleArn: string): string {
  const partition = roleArn.split(':')[1] || 'aws';
  return `arn:${partition}:iam::aws:policy/${S3_READ_ONLY_POLICY}`;
}

export async function describeRole(ctx: ClusterContext): Promise<RoleStatus> {
  const name = ctx.settings.roleName;
  const role = await getRole(ctx, name);
  if (!role?.Arn) return { name, exists: false, s3ReadOnlyAttached: false, createdBySparkify: false };
  const attached = await listAttached(ctx, name);
  return {
    name,
    exists: true,
    arn: role.Arn,
    s3ReadOnlyAttached: attached.some((p) => p.PolicyArn === s3ReadOnlyPolicyArn(role.Arn!)),
    createdBySparkify: isOurs(role),
  };
}

/**
 * Creates the role if missing (or reuses it) and makes sure the S3 read-only
 * policy is attached. Returns its ARN.
 */
export async function ensureRole(ctx: ClusterContext): Promise<{ arn: string; created: boolean }> {
  const name = ctx.settings.roleName;
  let role = await getRole(ctx, name);
  let created = false;
  if (role) {
    const trust = decodeURIComponent(role.AssumeRolePolicyDocument ?? '');
    if (!trust.includes('redshift.amazonaws.com')) {
      throw new SparkifyError('CLUSTER_FAILED', `IAM role ${name} exists but Redshift may not assume it (its trust policy does not name redshift.amazonaws.com).`, {
        hint: `Add redshift.amazonaws.com to the role's trust relationships, or set another name in dwh.cfg [IAM_ROLE] NAME so sparkify creates its own role.`,
      });
    }
    ctx.emit({ step: 'role', status: 'skipped', message: `IAM role ${name} already exists; reusing it` });
  } else {
    ctx.emit({ step: 'role', status: 'start', message: `creating IAM role ${name}` });
    try {
      const out = await ctx.clients.iam.send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: TRUST_POLICY,
          Description: 'Lets Amazon Redshift read S3 (read-only) for sparkify-dwh COPY loads.',
          Tags: [{ ...MANAGED_TAG }],
        }),
      );
      role = out.Role;
      created = true;
      ctx.emit({ step: 'role', status: 'done', message: `created IAM role ${name}` });
    } catch (err) {
      // Another run created it between our GetRole and CreateRole.
      if (!isAwsError(err, 'EntityAlreadyExists')) throw classifyAwsError(err, { permission: 'iam:CreateRole', doing: `create IAM role ${name}`, alsoNeeds: 'iam:TagRole', resumable: true });
      role = await getRole(ctx, name);
    }
  }
  const arn = role?.Arn;
  if (!arn) throw new SparkifyError('AWS_FAILED', `IAM did not return an ARN for role ${name}.`, { hint: 'Re-run the command; it resumes.', transient: true });

  const policyArn = s3ReadOnlyPolicyArn(arn);
  const attached = created ? [] : await listAttached(ctx, name);
  if (attached.some((p) => p.PolicyArn === policyArn)) {
    ctx.emit({ step: 'role', status: 'skipped', message: `${S3_READ_ONLY_POLICY} is already attached to ${name}` });
  } else {
    await awsCall({ permission: 'iam:AttachRolePolicy', doing: `attach ${S3_READ_ONLY_POLICY} to IAM role ${name}`, resumable: true }, () =>
      ctx.clients.iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: policyArn })),
    );
    ctx.emit({ step: 'role', status: 'done', message: `attached ${S3_READ_ONLY_POLICY} to ${name}` });
  }
  return { arn, created };
}

/** Detaches the S3 policy and deletes the role, if sparkify created it (a role of the user's own is left alone). */
export async function deleteRole(ctx: ClusterContext): Promise<'deleted' | 'absent' | 'kept'> {
  const name = ctx.settings.roleName;
  const role = await getRole(ctx, name);
  if (!role?.Arn) {
    ctx.emit({ step: 'role', status: 'skipped', message: `IAM role ${name} is already gone` });
    return 'absent';
  }
  if (!isOurs(role)) {
    ctx.emit({ step: 'role', status: 'warning', message: `IAM role ${name} was not created by sparkify; left in place` });
    return 'kept';
  }
  ctx.emit({ step: 'role', status: 'start', message: `deleting IAM role ${name}` });
  const policyArn = s3ReadOnlyPolicyArn(role.Arn);
  if ((await listAttached(ctx, name)).some((p) => p.PolicyArn === policyArn)) {
    try {
      await ctx.clients.iam.send(new DetachRolePolicyCommand({ RoleName: name, PolicyArn: policyArn }));
    } catch (err) {
      if (!isAwsError(err, 'NoSuchEntity')) throw classifyAwsError(err, { permission: 'iam:DetachRolePolicy', doing: `detach ${S3_READ_ONLY_POLICY} from IAM role ${name}`, resumable: true });
    }
  }
  try {
    await ctx.clients.iam.send(new DeleteRoleCommand({ RoleName: name }));
  } catch (err) {
    if (isAwsError(err, 'NoSuchEntity')) return 'absent';
    if (isAwsError(err, 'DeleteConflict')) {
      throw new SparkifyError('AWS_FAILED', `Could not delete IAM role ${name}: other policies or instance profiles are still attached to it.`, {
        hint: `Detach them in the IAM console (Roles → ${name}), then re-run \`sparkify cluster delete\`.`,
        cause: err,
      });
    }
    throw classifyAwsError(err, { permission: 'iam:DeleteRole', doing: `delete IAM role ${name}`, resumable: true });
  }
  ctx.emit({ step: 'role', status: 'done', message: `deleted IAM role ${name}` });
  return 'deleted';
}

async function getRole(ctx: ClusterContext, name: string): Promise<Role | undefined> {
  try {
    return (await ctx.clients.iam.send(new GetRoleCommand({ RoleName: name }))).Role;
  } catch (err) {
    if (isAwsError(err, 'NoSuchEntity')) return undefined;
    throw classifyAwsError(err, { permission: 'iam:GetRole', doing: `look up IAM role ${name}` });
  }
}

async function listAttached(ctx: ClusterContext, name: string): Promise<AttachedPolicy[]> {
  const all: AttachedPolicy[] = [];
  let marker: string | undefined;
  do {
    const out = await awsCall({ permission: 'iam:ListAttachedRolePolicies', doing: `list the policies of IAM role ${name}` }, () =>
      ctx.clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, Marker: marker })),
    );
    all.push(...(out.AttachedPolicies ?? []));
    marker = out.IsTruncated ? out.Marker : undefined;
  } while (marker);
  return all;
}

function isOurs(role: Role): boolean {
  return (role.Tags ?? []).some((t) => t.Key === MANAGED_TAG.Key && t.Value === MANAGED_TAG.Value);
}
