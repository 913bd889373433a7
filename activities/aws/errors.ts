/**
 * Turns what the AWS SDK throws into one sentence naming the setting to change. Pure.
 * `where` is the endpoint in use: AWS_ENDPOINT_URL's value, or "AWS (<region>)".
 */
export function explainAwsError(err: unknown, where: string): { summary: string; fix: string } {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const detail = e.message ?? String(err);
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(detail)) {
    return {
      summary: `no AWS credentials found for ${where}`,
      fix: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (an emulator accepts any, e.g. test/test)',
    };
  }
  if (e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(detail)) {
    return {
      summary: `nothing answers at AWS_ENDPOINT_URL=${where}: connection refused`,
      fix: 'start the emulator (bash scripts/aws-emulator.sh) or fix AWS_ENDPOINT_URL',
    };
  }
  if (e.code === 'ENOTFOUND' || /ENOTFOUND|EAI_AGAIN/.test(detail)) {
    return { summary: `the host of ${where} cannot be resolved`, fix: 'check AWS_ENDPOINT_URL and AWS_REGION' };
  }
  if (e.name === 'UnrecognizedClientException' || e.name === 'InvalidSignatureException' || e.$metadata?.httpStatusCode === 403) {
    return {
      summary: `${where} rejected the credentials: ${detail}`,
      fix: 'check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the IAM policy (batch:Describe*, elasticfilesystem:Describe*)',
    };
  }
  return { summary: `${where} failed: ${e.name ?? 'error'}: ${detail}`, fix: 'check AWS_REGION, AWS_ENDPOINT_URL and the credentials' };
}
