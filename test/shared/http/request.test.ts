// Reading the access token and the JSON body of an API Gateway request, however a client sends them.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { accessTokenOf, readItemBody, readJsonObject } from '#shared/http/request';

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

describe('the item body', () => {
  const item = { access_token: 't', data: { environment: 'production', body: { message: { body: 'Hi' } } } };
  const form = (body: string, type = 'application/x-www-form-urlencoded') =>
    event({ headers: { 'content-type': type }, body });

  it('reads JSON', async () => {
    const request = event({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(item) });
    expect(await readItemBody(request)).toEqual(item);
  });

  it('reads the JSON in a url-encoded form’s `payload` parameter, as Rollbar does', async () => {
    const body = new URLSearchParams({ payload: JSON.stringify(item) }).toString();
    expect(await readItemBody(form(body))).toEqual(item);
  });

  it('reads the `payload` parameter of a multipart form', async () => {
    const boundary = 'XyZ';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="payload"\r\n\r\n${JSON.stringify(item)}\r\n--${boundary}--\r\n`;
    expect(await readItemBody(form(body, `multipart/form-data; boundary=${boundary}`))).toEqual(item);
  });

  it('reads JSON that `curl -d` labelled as a form', async () => {
    expect(await readItemBody(form(JSON.stringify(item)))).toEqual(item);
  });

  it.each([
    ['a form without a payload parameter', 'data=1', /payload/],
    ['a payload parameter that is not JSON', 'payload=%7Bnot%20json', /invalid JSON/],
    ['a payload parameter that is a JSON array', 'payload=%5B1%5D', /JSON object/],
  ])('answers 400 to %s', async (_name, body, message) => {
    await expect(readItemBody(form(body))).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(message),
    });
  });
});
