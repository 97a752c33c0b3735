// The middy middleware of self-reporting: installed from the function's variables at cold start
// (nothing happens without them), it waits for the reports in flight before an invocation ends.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { MiddlewareObj } from '@middy/core';
import { logger, sendLoggedErrorsTo } from '#shared/observability';
import { SelfReporter, selfReportEnvironment } from './reporter';

/** Reads the access token Faultline reports to itself with, from its Secrets Manager secret. */
export function accessTokenFromSecret(secretId: string): () => Promise<string> {
  return async () => {
    const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
    const token = secret.SecretString?.trim();
    if (!token) throw new Error(`secret ${secretId} holds no access token`);
    return token;
  };
}

/** The reporter the function's variables ask for, or none when self-reporting is off. */
export function selfReporterFromEnvironment(env: NodeJS.ProcessEnv = process.env): SelfReporter | undefined {
  const endpoint = env[selfReportEnvironment.endpoint];
  const tokenSecret = env[selfReportEnvironment.tokenSecret];
  if (!endpoint || !tokenSecret) return undefined;
  return new SelfReporter({
    endpoint,
    environment: env[selfReportEnvironment.environment] || 'production',
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? 'faultline',
    accessToken: async () => {
      const secret = await new SecretsManagerClient({}).send(
        new GetSecretValueCommand({ SecretId: tokenSecret }),
      );
      const token = secret.SecretString?.trim();
      if (!token) throw new Error(`secret ${tokenSecret} holds no access token`);
      return token;
    },
    warn: (message, fields) => logger.warn(message, fields),
  });
}

let installed: SelfReporter | undefined | null = null;

/** Installs the reporter once per container (a second handler in the same process shares it). */
function reporter(): SelfReporter | undefined {
  if (installed === null) {
    installed = selfReporterFromEnvironment();
    sendLoggedErrorsTo(installed && ((entry) => installed?.report(entry)));
  }
  return installed;
}

/**
 * Use it first in a handler's chain, so its `after` and `onError` run last: after every other
 * middleware has logged what it logs about the invocation.
 */
export function selfReports<E, R>(): MiddlewareObj<E, R> {
  const flush = async () => {
    await reporter()?.flush();
  };
  return {
    before: () => {
      reporter();
    },
    after: flush,
    onError: flush,
  };
}
