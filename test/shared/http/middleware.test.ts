// The middleware every HTTP handler shares: a client error becomes its 4xx in Rollbar's shape, and
// anything else a 500 that reveals nothing.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AccessDeniedError,
  BadRequestError,
  MissingTokenError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '#shared/errors';
import { httpHandler } from '#shared/http/middleware';
import { ok } from '#shared/http/response';
import { logger } from '#shared/observability';

const context: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'readApi',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:readApi',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/readApi',
  logStreamName: '2026/11/30/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 5000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

const event = { headers: {}, rawPath: '/api/1/item/9' } as unknown as APIGatewayProxyEventV2;

/** What a handler that throws `error` answers. */
async function answerTo(error: unknown) {
  const handler = httpHandler(async () => {
    throw error;
  });
  const answer = await handler(event, context);
  return { statusCode: answer.statusCode, body: JSON.parse(answer.body as string) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a handler', () => {
  it('answers what it returns when nothing goes wrong', async () => {
    const handler = httpHandler(async () => ok({ id: 9 }));
    expect(await handler(event, context)).toMatchObject({
      statusCode: 200,
      body: '{"err":0,"result":{"id":9}}',
    });
  });

  it.each([
    [new BadRequestError('invalid JSON in request body'), 400],
    [new MissingTokenError(), 403],
    [new AccessDeniedError('invalid access token'), 403],
    [new NotFoundError('item 9 not found'), 404],
    [new PayloadTooLargeError('payload is 600000 bytes; the limit is 524288'), 413],
    [new ValidationError('Invalid format. data.body is missing'), 422],
  ])('that refuses with %s answers %i in Rollbar’s shape, with its message', async (error, statusCode) => {
    expect(await answerTo(error)).toEqual({ statusCode, body: { err: 1, message: error.message } });
  });

  it('that fails answers a 500 that reveals nothing of the failure, and logs it', async () => {
    const logged = vi.spyOn(logger, 'error');
    const failure = new Error('ResourceNotFoundException: table faultline-items at 10.0.3.7');
    expect(await answerTo(failure)).toEqual({ statusCode: 500, body: { err: 1, message: 'internal error' } });
    expect(logged).toHaveBeenCalledWith('request failed', { error: failure });
  });

  it('that throws something other than an error answers a 500 too', async () => {
    expect(await answerTo('a string')).toEqual({
      statusCode: 500,
      body: { err: 1, message: 'internal error' },
    });
    expect(await answerTo(undefined)).toEqual({
      statusCode: 500,
      body: { err: 1, message: 'internal error' },
    });
  });

  it('logs a refusal at info with its reason, and a 404 only at debug', async () => {
    const info = vi.spyOn(logger, 'info');
    const debug = vi.spyOn(logger, 'debug');
    await answerTo(new ValidationError('Invalid format. data.body is missing'));
    expect(info).toHaveBeenCalledWith('request refused', {
      statusCode: 422,
      reason: 'Invalid format. data.body is missing',
    });
    info.mockClear();
    await answerTo(new NotFoundError('item 9 not found'));
    expect(info).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledWith('request refused', { statusCode: 404, reason: 'item 9 not found' });
  });
});
