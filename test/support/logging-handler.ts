// A stand-in HTTP handler that logs as Faultline's handlers do, for the local console's tests.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { logger } from '#shared/observability';

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  if (event.rawPath === '/refused') {
    logger.info('request refused', { statusCode: 422, reason: 'data.body: required' });
    return { statusCode: 422, body: '{"err":1,"message":"data.body: required"}' };
  }
  logger.info('item accepted', { project_id: 7, uuid: 'c0ffee00-0000-4000-8000-000000000000' });
  return { statusCode: 200, body: '{"err":0}' };
}
