// Answers in Rollbar's shapes: `{"err":0,"result":…}` for success, `{"err":1,"message":…}` for errors.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const jsonHeaders = { 'content-type': 'application/json; charset=utf-8' };

export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: jsonHeaders, body: JSON.stringify(body) };
}

export function ok(result: unknown, statusCode = 200): APIGatewayProxyStructuredResultV2 {
  return json(statusCode, { err: 0, result });
}

export function rollbarError(statusCode: number, message: string): APIGatewayProxyStructuredResultV2 {
  return json(statusCode, { err: 1, message });
}

/** The answer with these headers added (rate-limit headers on an admitted call). */
export function withHeaders(
  answer: APIGatewayProxyStructuredResultV2,
  headers: Record<string, string>,
): APIGatewayProxyStructuredResultV2 {
  return { ...answer, headers: { ...answer.headers, ...headers } };
}
