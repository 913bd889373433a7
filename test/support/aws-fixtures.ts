import { BatchClient, CreateComputeEnvironmentCommand, CreateJobQueueCommand } from '@aws-sdk/client-batch';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { loadTestbed } from './testbed';

/** An ENABLED Batch job queue on an UNMANAGED compute environment (needs no EC2 setup in the emulator). */
export async function createJobQueue(name: string): Promise<void> {
  const bed = loadTestbed();
  const options = { region: bed.awsRegion, endpoint: bed.awsEndpoint };
  const batch = new BatchClient(options);
  const iam = new IAMClient(options);
  try {
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: `${name}-batch-service`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'batch.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const env = await batch.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: `${name}-env`,
        type: 'UNMANAGED',
        state: 'ENABLED',
        serviceRole: role.Role?.Arn,
      }),
    );
    await batch.send(
      new CreateJobQueueCommand({
        jobQueueName: name,
        state: 'ENABLED',
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: env.computeEnvironmentArn }],
      }),
    );
  } finally {
    batch.destroy();
    iam.destroy();
  }
}
