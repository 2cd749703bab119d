/**
 * The Data API transport prints nothing of the AWS SDK's: it quietens the
 * SDK's Node-version warning before making its client and gives the client a
 * silent logger. A file of its own, so that no client exists in this process
 * before sparkify makes one. SDK-LEVEL MOCKS (aws-sdk-client-mock): no AWS is
 * reachable from this machine.
 */
import { DescribeStatementCommand, ExecuteStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, expect, it, vi } from 'vitest';
import { DataApiSession } from '../src/warehouses/redshift/data-api/data-api-session.js';

afterEach(() => vi.restoreAllMocks());

it('prints nothing: no Node-version warning, no SDK logging, nothing on stderr', async () => {
  delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED; // prove that sparkify sets it
  const mock = mockClient(RedshiftDataClient);
  mock.on(ExecuteStatementCommand).resolves({ Id: 'stmt-1', SessionId: 'session-1' });
  mock.on(DescribeStatementCommand).resolves({ Id: 'stmt-1', Status: 'FINISHED', HasResultSet: false });
  const writes: string[] = [];
  const warnings: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true));
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void writes.push(a.join(' ')));
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    const session = new DataApiSession({ clusterIdentifier: 'c', database: 'dev', dbUser: 'u' }, { region: 'us-west-2', sleep: async () => undefined });
    await session.run('SELECT 1');
    await session.close();
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off('warning', onWarning);
  }
  expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
  expect(warnings).toEqual([]);
  expect(writes).toEqual([]);
  mock.restore();
});
