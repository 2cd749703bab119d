/**
 * Cluster settings from dwh.cfg, and the INI line editor that writes dwh.cfg.
 *
 * No AWS here, mocked or real: these are pure functions and a temp file. The
 * create/status/delete tests, which use SDK-level mocks of the AWS control
 * plane (IAM, Redshift, Redshift Serverless, EC2), are in cluster.test.ts.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clusterSettingsFromConfig } from '../src/cluster/index.js';
import { classifyAwsError } from '../src/cluster/cluster-errors.js';
import { readDwhCfg, updateDwhCfg } from '../src/config/dwh-cfg.js';
import { readConfigLayers } from '../src/config/layers.js';
import { setIniValues } from '../src/config/ini-edit.js';

const PASSWORD = 'Sup3rSecretPw';

describe('clusterSettingsFromConfig', () => {
  it('has working defaults for a provisioned cluster', () => {
    const { settings, issues } = clusterSettingsFromConfig({ sections: {} });
    expect(issues).toEqual([]);
    expect(settings).toEqual({
      kind: 'provisioned',
      identifier: 'sparkify-dwh',
      nodeType: 'ra3.large',
      clusterType: 'multi-node',
      numberOfNodes: 2,
      region: undefined,
      roleName: 'sparkify-dwh-redshift-s3-read',
      database: 'dev',
      user: 'awsuser',
      password: undefined,
      port: 5439,
      publiclyAccessible: true,
    });
  });

  it('reads [CLUSTER], [IAM_ROLE] and [AWS]', () => {
    const { settings } = clusterSettingsFromConfig({
      sections: {
        CLUSTER: { DB_NAME: 'sparkify', DB_USER: 'admin', DB_PASSWORD: PASSWORD, DB_PORT: '5440', CLUSTER_TYPE: 'single-node', NUM_NODES: '1', NODE_TYPE: 'ra3.xlplus', IDENTIFIER: 'my-dwh' },
        IAM_ROLE: { NAME: 'my-role' },
        AWS: { REGION: 'eu-west-1' },
      },
    });
    expect(settings).toMatchObject({ kind: 'provisioned', identifier: 'my-dwh', clusterType: 'single-node', numberOfNodes: 1, nodeType: 'ra3.xlplus', roleName: 'my-role', region: 'eu-west-1', port: 5440, password: PASSWORD });
  });

  it('chooses Serverless from the flag, CLUSTER_TYPE, or a WORKGROUP alone; the flag wins', () => {
    expect(clusterSettingsFromConfig({ sections: {}, serverless: true }).settings).toMatchObject({ kind: 'serverless', namespace: 'sparkify-dwh', workgroup: 'sparkify-dwh', baseCapacity: 8 });
    expect(clusterSettingsFromConfig({ sections: { CLUSTER: { CLUSTER_TYPE: 'serverless', BASE_CAPACITY: '32' } } }).settings).toMatchObject({ kind: 'serverless', baseCapacity: 32 });
    expect(clusterSettingsFromConfig({ sections: { CLUSTER: { WORKGROUP: 'wg-one' } } }).settings).toMatchObject({ kind: 'serverless', workgroup: 'wg-one' });
    expect(clusterSettingsFromConfig({ sections: { CLUSTER: { CLUSTER_TYPE: 'serverless' } }, serverless: false }).settings?.kind).toBe('provisioned');
  });

  it("checks the port against the ranges each kind accepts (ra3 and Serverless: 5431-5455, 8191-8215; dc2: 1150-65535)", () => {
    const port = (CLUSTER: Record<string, string>, serverless?: boolean) => clusterSettingsFromConfig({ sections: { CLUSTER }, serverless });
    expect(port({ DB_PORT: '5455' }).settings?.port).toBe(5455);
    expect(port({ DB_PORT: '8191' }, true).settings?.port).toBe(8191);
    expect(port({ DB_PORT: '5456' }).issues).toEqual([
      { where: 'dwh.cfg [CLUSTER] DB_PORT', message: '5456 is not a port an ra3 cluster accepts: choose one from 5431 to 5455 or from 8191 to 8215 (5439 is the default)' },
    ]);
    expect(port({ DB_PORT: '15439' }, true).issues[0]?.message).toMatch(/^15439 is not a port Redshift Serverless accepts/);
    expect(port({ DB_PORT: '15439', NODE_TYPE: 'dc2.large' }).settings?.port).toBe(15439);
  });

  it('returns every problem as {where, message}, never the password itself', () => {
    const { settings, issues } = clusterSettingsFromConfig({
      fileName: 'dwh.cfg',
      sections: {
        CLUSTER: { DB_NAME: 'Sparkify-DB', DB_USER: '1admin', DB_PASSWORD: 'alllowercase1', DB_PORT: '99', CLUSTER_TYPE: 'multi-node', NUM_NODES: '1', IDENTIFIER: 'Bad_Name' },
        IAM_ROLE: { NAME: 'bad role' },
        AWS: { REGION: 'moon-1' },
      },
    });
    expect(settings).toBeUndefined();
    expect(issues.map((i) => i.where)).toEqual([
      'dwh.cfg [CLUSTER] DB_NAME',
      'dwh.cfg [CLUSTER] DB_USER',
      'dwh.cfg [CLUSTER] DB_PASSWORD',
      'dwh.cfg [CLUSTER] DB_PORT',
      'dwh.cfg [IAM_ROLE] NAME',
      'dwh.cfg [AWS] REGION',
      'dwh.cfg [CLUSTER] IDENTIFIER',
      'dwh.cfg [CLUSTER] NUM_NODES',
    ]);
    expect(issues[2]!.message).toBe("does not meet Redshift's password rules: it needs an uppercase letter");
    expect(JSON.stringify(issues)).not.toContain('alllowercase1');
  });

  it('asks for the password only when asked to (create), and checks Serverless capacity', () => {
    expect(clusterSettingsFromConfig({ sections: {}, requirePassword: true }).issues).toEqual([
      expect.objectContaining({ where: 'dwh.cfg [CLUSTER] DB_PASSWORD (or [DWH] DWH_DB_PASSWORD)', message: expect.stringContaining('is empty') }),
    ]);
    const { issues } = clusterSettingsFromConfig({ sections: { CLUSTER: { BASE_CAPACITY: '12', WORKGROUP: 'x' } }, serverless: true });
    expect(issues.map((i) => i.message)).toEqual([expect.stringContaining('Serverless name'), '12 is not a multiple of 8 RPUs']);
  });
});

describe('setIniValues', () => {
  it('replaces values in place, keeping quotes, spacing, comments and key case', () => {
    const text = "; top\n[cluster]\nhost = ''   \n# keep\nDB_PORT=5439\n[S3]\nX=1\n";
    const r = setIniValues(text, { CLUSTER: { HOST: 'h.example', DB_PORT: '5439' } });
    expect(r.text).toBe("; top\n[cluster]\nhost = 'h.example'   \n# keep\nDB_PORT=5439\n[S3]\nX=1\n");
    expect(r.changed).toEqual(['[CLUSTER] host']);
  });

  it('adds missing keys at the end of their section and missing sections at the end, keeping CRLF', () => {
    const text = '[CLUSTER]\r\nHOST=a\r\n\r\n; s3 next\r\n[S3]\r\nX=1';
    const r = setIniValues(text, { CLUSTER: { WORKGROUP: 'wg' }, IAM_ROLE: { ARN: 'arn:aws:iam::1:role/r' } });
    expect(r.text).toBe('[CLUSTER]\r\nHOST=a\r\nWORKGROUP=wg\r\n\r\n; s3 next\r\n[S3]\r\nX=1\r\n\r\n[IAM_ROLE]\r\nARN=arn:aws:iam::1:role/r\r\n');
  });

  it('returns the text untouched when nothing changes, and refuses line breaks', () => {
    const text = '[A]\nK=v';
    expect(setIniValues(text, { A: { K: 'v' } })).toEqual({ text, changed: [] });
    expect(() => setIniValues(text, { A: { K: 'v\n[B]' } })).toThrow(/line break/);
  });

  it('starts an empty file', () => {
    expect(setIniValues('', { CLUSTER: { HOST: 'h' } }).text).toBe('[CLUSTER]\nHOST=h\n');
  });
});

describe('updateDwhCfg', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-cfg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('never writes a secret, whatever it is asked', async () => {
    const file = path.join(dir, 'dwh.cfg');
    writeFileSync(file, '[CLUSTER]\nHOST=\n');
    for (const key of ['DB_PASSWORD', 'SECRET', 'KEY', 'AWS_SECRET_ACCESS_KEY', 'SESSION_TOKEN']) {
      await expect(updateDwhCfg(file, { CLUSTER: { [key]: PASSWORD } })).rejects.toThrow(/never writes secrets/);
    }
    expect(readFileSync(file, 'utf8')).toBe('[CLUSTER]\nHOST=\n');
  });

  it('keeps the file mode (dwh.cfg holds a password) and creates a missing file', async () => {
    const file = path.join(dir, 'dwh.cfg');
    writeFileSync(file, `[CLUSTER]\nDB_PASSWORD=${PASSWORD}\nHOST=\n`, { mode: 0o600 });
    const r = await updateDwhCfg(file, { CLUSTER: { HOST: 'h' } });
    expect(r).toMatchObject({ changed: ['[CLUSTER] HOST'], created: false });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(`[CLUSTER]\nDB_PASSWORD=${PASSWORD}\nHOST=h\n`);

    const fresh = path.join(dir, 'new.cfg');
    expect((await updateDwhCfg(fresh, { CLUSTER: { HOST: 'h' } })).created).toBe(true);
    expect(readDwhCfg(fresh)).toEqual({ CLUSTER: { HOST: 'h' } });
  });
});

describe('dwh.cfg on a shared machine', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-cfg-shared-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is written through a temp file of its own, never through a planted link, and a password others may read is warned about', async () => {
    const file = path.join(dir, 'exposed.cfg');
    writeFileSync(file, `[CLUSTER]\nDB_PASSWORD=${PASSWORD}\nHOST=\n`);
    chmodSync(file, 0o644);
    // The name an earlier version used, planted as a link to a file of someone else's.
    const trap = path.join(dir, 'trap.txt');
    writeFileSync(trap, 'mine');
    symlinkSync(trap, `${file}.${process.pid}.tmp`);
    await updateDwhCfg(file, { CLUSTER: { HOST: 'h' } });
    expect(readFileSync(trap, 'utf8')).toBe('mine');
    expect(readFileSync(file, 'utf8')).toBe(`[CLUSTER]\nDB_PASSWORD=${PASSWORD}\nHOST=h\n`);
    expect(readdirSync(dir).filter((n) => n.startsWith('exposed.cfg.') && !n.startsWith(`exposed.cfg.${process.pid}.tmp`))).toEqual([]);
    expect(readConfigLayers({ config: file, env: {}, cwd: dir }).warnings).toEqual([
      `${file} holds [CLUSTER] DB_PASSWORD and can be read by every user of this machine (mode 644): chmod 600 ${file}`,
    ]);
    chmodSync(file, 0o600);
    expect(readConfigLayers({ config: file, env: {}, cwd: dir }).warnings).toEqual([]);
  });
});

describe('classifyAwsError', () => {
  const action = { permission: 'redshift:DeleteCluster', doing: 'delete Redshift cluster x' };
  const err = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: {} });

  it('sorts credentials, region and throttling', () => {
    expect(classifyAwsError(err('ExpiredTokenException', 'The security token included in the request is expired'), action).hint).toMatch(/aws sso login|credentials/);
    expect(classifyAwsError(new Error('Region is missing'), action).hint).toContain('[AWS] REGION');
    const throttled = classifyAwsError(err('ThrottlingException', 'Rate exceeded'), action);
    expect(throttled.transient).toBe(true);
    expect(throttled.code).toBe('AWS_FAILED');
  });

  it('keeps AWS words for anything else, naming the resource', () => {
    const e = classifyAwsError(err('InvalidParameterValue', 'Invalid node type'), { ...action, code: 'CLUSTER_FAILED' });
    expect(e.code).toBe('CLUSTER_FAILED');
    expect(e.message).toBe('Could not delete Redshift cluster x: InvalidParameterValue: Invalid node type');
  });
});
