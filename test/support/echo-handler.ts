// A stand-in HTTP handler for the adapter's tests: it answers with the event it received.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export async function handler(
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2 | Record<string, unknown> | string> {
  switch (event.rawPath) {
    case '/throws':
      throw new Error('the handler failed on purpose');
    case '/plain-object':
      return { hello: 'world' };
    case '/plain-string':
      return 'just a string';
    case '/binary':
      return {
        statusCode: 201,
        headers: { 'Content-Type': 'application/octet-stream', 'X-Custom': 'yes' },
        cookies: ['a=1; Path=/', 'b=2'],
        body: Buffer.from([0, 1, 2, 255]).toString('base64'),
        isBase64Encoded: true,
      };
    default:
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          event,
          context: {
            functionName: context.functionName,
            awsRequestId: context.awsRequestId,
            remainingMs: context.getRemainingTimeInMillis(),
          },
        }),
      };
  }
}
