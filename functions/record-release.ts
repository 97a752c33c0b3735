// CloudFormation custom resource (opt-in, -c selfReport): records each release of this stack as a
// deploy in Faultline itself, after every function's alias has moved.
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ConfigurationError } from '#shared/config';
import { logger } from '#shared/observability';
import { accessTokenFromSecret } from '#shared/self-report/middleware';
import { answerCloudFormation, recordRelease, releaseRecordEnvironment } from '#shared/self-report/release';
import { selfReportEnvironment } from '#shared/self-report/reporter';

const deployUrl = process.env[releaseRecordEnvironment.deployUrl];
const tokenSecret = process.env[selfReportEnvironment.tokenSecret];
if (!deployUrl || !tokenSecret) {
  throw new ConfigurationError(
    `${releaseRecordEnvironment.deployUrl} and ${selfReportEnvironment.tokenSecret} must be set`,
  );
}
const accessToken = accessTokenFromSecret(tokenSecret);

export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  const outcome = await recordRelease(event, { deployUrl: deployUrl as string, accessToken });
  if (outcome.recorded) logger.info('release recorded', { deploy_id: outcome.deployId });
  // Warn, not error: the release itself went out; only its record in Faultline is missing.
  else logger.warn('release not recorded', { reason: outcome.reason });
  await answerCloudFormation(event, outcome);
}
