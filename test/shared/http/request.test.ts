// Reading the access token and the JSON body of an API Gateway request, however a client sends them.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { accessTokenOf, readJsonObject } from '#shared/http/request';

const event = (fields: Partial<APIGatewayProxyEventV2>) => fields as APIGatewayProxyEventV2;

describe('the access token', () => {
  it.each<[string, APIGatewayProxyEventV2, Record<string, unknown> | undefined, string | undefined]>([
    [
      'from the header first',
      event({ headers: { 'x-rollbar-access-token': ' h ' } }),
      { access_token: 'b' },
      'h',
    ],
    ['from the query', event({ headers: {}, queryStringParameters: { access_token: 'q' } }), undefined, 'q'],
    ['from the body', event({ headers: {} }), { access_token: 'b' }, 'b'],
    ['none when the body’s is a number', event({ headers: {} }), { access_token: 42 }, undefined],
    ['none when the request has no headers at all', event({}), undefined, undefined],
    ['from the body when the request has no headers at all', event({}), { access_token: 'b' }, 'b'],
  ])('%s', (_name, request, fields, token) => {
    expect(accessTokenOf(request, fields)).toBe(token);
  });
});

describe('the JSON body', () => {
  it('reads 100,000 levels of nesting without overflowing the stack', () => {
    const body = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(readJsonObject(event({ headers: {}, body }))).toHaveProperty('a');
  });

  it('reads a body with no content-type header', () => {
    expect(readJsonObject(event({ body: '{"data":1}' }))).toEqual({ data: 1 });
  });
});
