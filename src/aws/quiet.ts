/**
 * The AWS SDK v3 writes one warning to stderr per process when Node is older
 * than the SDK's next minimum (now 22): on Node 20 every client constructor
 * calls `process.emitWarning('NodeVersionSupportWarning: The AWS SDK for
 * JavaScript (v3) versions published after ... will require node >=22 ...')`
 * (@aws-sdk/core, `emitWarningIfUnsupportedVersion`). Users of sparkify must
 * not see that. The SDK reads one documented switch for exactly this warning,
 * `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true`, at the moment it
 * would warn; every other warning of the SDK or of Node still shows.
 */

const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Silences the AWS SDK's Node-version support warning. Idempotent; call it
 * before creating any AWS SDK client. A value the user has set explicitly
 * (e.g. `false`, to see the warning) is left alone.
 *
 * @example
 *   quietAwsSdk();
 *   const s3 = new S3Client({});
 */
export function quietAwsSdk(): void {
  process.env[SWITCH] ??= 'true';
}
