// Recording a release of Faultline in Faultline itself: the CloudFormation custom resource that runs
// after every alias has moved posts a deploy (Rollbar's `POST /api/1/deploy`) to the stack's own API.
// A failure to record is logged and never fails the stack: a release must not roll back over bookkeeping.
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

export const releaseRecordEnvironment = {
  /** The deploy endpoint of the stack's own API: `https://…/api/1/deploy`. */
  deployUrl: 'FAULTLINE_RELEASE_DEPLOY_URL',
} as const;

/** The custom resource's properties (infra/stacks/releases.ts). */
export interface ReleaseProperties {
  Revision: string;
  Environment: string;
  Stack: string;
}

export type ReleaseOutcome =
  | { recorded: true; deployId: number | undefined }
  | { recorded: false; reason: string };

export interface ReleaseRecorderOptions {
  deployUrl: string;
  accessToken: () => Promise<string>;
  /** How long the post may take. @default 10000 ms */
  timeoutMs?: number;
}

// Custom resources keep their physical id across updates: a new one would make CloudFormation delete the old.
const PHYSICAL_ID = 'faultline-release-record';

/**
 * Posts the release as a deploy on Create and Update (a rollback is an Update back to the previous
 * revision, which is then live again, so it is recorded too); a Delete records nothing.
 */
export async function recordRelease(
  event: CloudFormationCustomResourceEvent,
  options: ReleaseRecorderOptions,
): Promise<ReleaseOutcome> {
  if (event.RequestType === 'Delete') return { recorded: false, reason: 'the stack is being deleted' };
  const properties = event.ResourceProperties as unknown as Partial<ReleaseProperties>;
  try {
    const token = await options.accessToken();
    const response = await fetch(options.deployUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-rollbar-access-token': token },
      body: JSON.stringify({
        environment: properties.Environment ?? 'production',
        revision: properties.Revision,
        local_username: 'cloudformation',
        comment: `${properties.Stack ?? 'Faultline'}: ${event.RequestType === 'Create' ? 'first deploy' : 'release'}`,
        status: 'succeeded',
      }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const answer = await response.text();
    if (!response.ok)
      return { recorded: false, reason: `the API answered ${response.status}: ${answer.slice(0, 200)}` };
    const deployId = (JSON.parse(answer) as { data?: { deploy_id?: number } }).data?.deploy_id;
    return { recorded: true, deployId };
  } catch (error) {
    return { recorded: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Answers CloudFormation on the request's pre-signed URL: always SUCCESS, with what happened in the
 * reason (it shows in the stack's events). Throws when the answer cannot be delivered, so Lambda
 * retries the invocation rather than leaving the stack waiting an hour.
 */
export async function answerCloudFormation(
  event: CloudFormationCustomResourceEvent,
  outcome: ReleaseOutcome,
): Promise<void> {
  const reason = outcome.recorded
    ? `release recorded as deploy ${outcome.deployId ?? '(no id)'}`
    : `release not recorded: ${outcome.reason}`;
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    // The pre-signed URL is signed for an empty content type.
    headers: { 'content-type': '' },
    body: JSON.stringify({
      Status: 'SUCCESS',
      Reason: reason.slice(0, 1000),
      PhysicalResourceId: event.RequestType === 'Create' ? PHYSICAL_ID : event.PhysicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      Data: outcome.recorded && outcome.deployId !== undefined ? { DeployId: String(outcome.deployId) } : {},
    }),
  });
  if (!response.ok) throw new Error(`CloudFormation's response URL answered ${response.status}`);
}
