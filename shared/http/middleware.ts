// The middy stack every HTTP handler shares: context in logs, and errors mapped once to Rollbar's answer.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ClientError } from '#shared/errors';
import { logger, metricsPublishing } from '#shared/observability';
import { selfReports } from '#shared/self-report/middleware';
import { rollbarError, withHeaders } from './response';

type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Client errors become their 4xx; anything else is logged and becomes a 500 that reveals nothing. */
export function rollbarErrors(): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof ClientError) {
        // A 404 or 405 is a client asking for what is not there (or scanning a public function URL), a
        // 429 one of a flood the limit holds back: none is worth a line at info.
        const quiet = error.statusCode === 404 || error.statusCode === 405 || error.statusCode === 429;
        const log = quiet ? logger.debug.bind(logger) : logger.info.bind(logger);
        log('request refused', { statusCode: error.statusCode, reason: error.message });
        const answer = rollbarError(error.statusCode, error.message);
        request.response = error.headers ? withHeaders(answer, error.headers) : answer;
        return;
      }
      logger.error('request failed', { error: error as Error });
      request.response = rollbarError(500, 'internal error');
    },
  };
}

export function httpHandler(handler: HttpHandler) {
  return (
    middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(selfReports())
      .use(injectLambdaContext(logger, { resetKeys: true }))
      // Before the error mapping, so its `after` runs last: what a refusal counted is written too.
      .use(metricsPublishing())
      .use(rollbarErrors())
      .handler(handler)
  );
}
