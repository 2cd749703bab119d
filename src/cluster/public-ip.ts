import { isIPv4 } from 'node:net';
import { SparkifyError } from '../errors.js';

/** AWS's own "what is my IP" service: answers the caller's public IPv4 address as plain text. */
export const CHECK_IP_URL = 'https://checkip.amazonaws.com';

/**
 * The caller's public IPv4 address, as AWS sees it: the one to allow through
 * the cluster's security group. The cluster commands take this function as an
 * option, so tests (and offline users) pass their own.
 *
 * @example
 *   const ip = await discoverPublicIp(); // '203.0.113.7'
 */
export async function discoverPublicIp(signal?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(10_000);
  let text: string;
  try {
    const res = await fetch(CHECK_IP_URL, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = (await res.text()).trim();
  } catch (err) {
    throw new SparkifyError('CLUSTER_FAILED', `Could not find this machine's public IP address from ${CHECK_IP_URL}: ${(err as Error).message}`, {
      hint: 'Pass it yourself (e.g. `--my-ip 203.0.113.7`); it is the only address allowed to reach the cluster.',
      cause: err,
      transient: true,
    });
  }
  if (!isIPv4(text)) {
    throw new SparkifyError('CLUSTER_FAILED', `${CHECK_IP_URL} answered something that is not an IPv4 address.`, {
      hint: 'Pass your public IP address yourself (e.g. `--my-ip 203.0.113.7`).',
    });
  }
  return text;
}
