// Reading API Gateway HTTP API requests: bodies in the encodings clients send, their size limit, and
// where the access token may be.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BadRequestError, PayloadTooLargeError } from '#shared/errors';
import {
  accessTokenOf,
  MAX_BODY_BYTES,
  readFields,
  readItemBody,
  readJsonObject,
} from '#shared/http/request';

/** An event as API Gateway builds it; it leaves out `headers` and `queryStringParameters` when there are none. */
function event(fields: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /api/1/item',
    rawPath: '/api/1/item/',
    rawQueryString: '',
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEventV2['requestContext'],
    ...fields,
  } as APIGatewayProxyEventV2;
}

const jsonEvent = (body: string, isBase64Encoded = false) =>
  event({ headers: { 'content-type': 'application/json' }, body, isBase64Encoded });

describe('a JSON body', () => {
  it('is read as an object, plain or base64-encoded', () => {
    const text = '{"data":{"environment":"production","note":"é ✓ 😀"}}';
    expect(readJsonObject(jsonEvent(text))).toEqual(JSON.parse(text));
    expect(readJsonObject(jsonEvent(Buffer.from(text).toString('base64'), true))).toEqual(JSON.parse(text));
  });

  it.each([
    ['an empty body', '', 'request body is empty'],
    ['a body of spaces', '  \n', 'request body is empty'],
    ['text that is not JSON', '{"data":', 'invalid JSON in request body'],
    ['an array', '[{"data":{}}]', 'request body must be a JSON object'],
    ['null', 'null', 'request body must be a JSON object'],
    ['a string', '"data"', 'request body must be a JSON object'],
    ['a number', '42', 'request body must be a JSON object'],
  ])('is refused with a 400 when it is %s', (_case, body, message) => {
    const read = () => readJsonObject(jsonEvent(body));
    expect(read).toThrow(BadRequestError);
    expect(read).toThrow(message);
  });

  it('is refused with a 400 when there is none at all', () => {
    expect(() => readJsonObject(event())).toThrow(BadRequestError);
  });

  it('of exactly 512 KiB is read; one byte more is refused with a 413 that says the size', () => {
    const padded = (bytes: number) => {
      const envelope = '{"pad":""}';
      return `{"pad":"${'x'.repeat(bytes - envelope.length)}"}`;
    };
    expect(readJsonObject(jsonEvent(padded(MAX_BODY_BYTES)))).toHaveProperty('pad');
    const read = () => readJsonObject(jsonEvent(padded(MAX_BODY_BYTES + 1)));
    expect(read).toThrow(PayloadTooLargeError);
    expect(read).toThrow(`payload is ${MAX_BODY_BYTES + 1} bytes; the limit is ${MAX_BODY_BYTES}`);
  });

  it('is measured in bytes, not characters: 512 KiB of two-byte characters is too large', () => {
    const text = `{"pad":"${'é'.repeat(MAX_BODY_BYTES / 2)}"}`;
    expect(() => readJsonObject(jsonEvent(text))).toThrow(PayloadTooLargeError);
  });

  it('is measured once decoded when it came base64-encoded', () => {
    const text = `{"pad":"${'x'.repeat(MAX_BODY_BYTES - 20)}"}`;
    // Base64 is a third longer than the bytes it carries: the limit is on what the client sent.
    expect(readJsonObject(jsonEvent(Buffer.from(text).toString('base64'), true))).toHaveProperty('pad');
  });
});

describe('a deploy script’s body', () => {
  it('is read from a url-encoded form, as strings', async () => {
    const fields = await readFields(
      event({
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: 'environment=production&revision=42&comment=fixed+the+%C3%A9t%C3%A9+bug',
      }),
    );
    expect(fields).toEqual({ environment: 'production', revision: '42', comment: 'fixed the été bug' });
  });

  it('is read from multipart form data, as curl -F sends it, base64-encoded by API Gateway', async () => {
    const boundary = '------------------------d74496d66958873e';
    const part = (name: string, value: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const file = `--${boundary}\r\nContent-Disposition: form-data; name="comment"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\nfrom a file\r\n`;
    const body = `${part('access_token', 'abc')}${part('environment', 'staging')}${file}--${boundary}--\r\n`;
    const fields = await readFields(
      event({
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(fields).toEqual({ access_token: 'abc', environment: 'staging', comment: 'from a file' });
  });

  it('is read as JSON when it says it is JSON, or says nothing', async () => {
    expect(await readFields(jsonEvent('{"revision":"abc"}'))).toEqual({ revision: 'abc' });
    expect(await readFields(event({ body: '{"revision":"abc"}' }))).toEqual({ revision: 'abc' });
  });

  it('is refused with a 400 when the multipart form is malformed', async () => {
    const read = readFields(
      event({ headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: 'not multipart' }),
    );
    await expect(read).rejects.toBeInstanceOf(BadRequestError);
    await expect(read).rejects.toThrow('malformed form body');
  });

  it('is refused with a 413 past 512 KiB, whatever its encoding', async () => {
    const read = readFields(
      event({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `comment=${'x'.repeat(MAX_BODY_BYTES)}`,
      }),
    );
    await expect(read).rejects.toBeInstanceOf(PayloadTooLargeError);
  });
});

describe('the access token', () => {
  it('is taken from the X-Rollbar-Access-Token header first, then the query, then the body', () => {
    const headers = { 'x-rollbar-access-token': 'from-header' };
    const queryStringParameters = { access_token: 'from-query' };
    const body = { access_token: 'from-body' };
    expect(accessTokenOf(event({ headers, queryStringParameters }), body)).toBe('from-header');
    expect(accessTokenOf(event({ queryStringParameters }), body)).toBe('from-query');
    expect(accessTokenOf(event(), body)).toBe('from-body');
  });

  it('is trimmed, and a blank one counts as none, so the next place is read', () => {
    expect(accessTokenOf(event({ headers: { 'x-rollbar-access-token': '  abc \n' } }))).toBe('abc');
    expect(
      accessTokenOf(
        event({ headers: { 'x-rollbar-access-token': ' ' }, queryStringParameters: { access_token: '' } }),
        { access_token: ' def ' },
      ),
    ).toBe('def');
  });

  it('is none when no place holds one, or the body holds something other than text', () => {
    expect(accessTokenOf(event())).toBeUndefined();
    expect(accessTokenOf(event({ headers: {} }), {})).toBeUndefined();
    expect(accessTokenOf(event(), { access_token: 12345 })).toBeUndefined();
    expect(accessTokenOf(event(), { access_token: ['abc'] })).toBeUndefined();
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
