// Reading an API Gateway HTTP API request: the body in the encodings clients send, and the access token.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { BadRequestError, PayloadTooLargeError } from '#shared/errors';

/** Rollbar's documented item size limit; larger payloads get a 413 and change nothing. */
export const MAX_BODY_BYTES = 512 * 1024;

export type RequestFields = Record<string, unknown>;

function contentTypeOf(event: APIGatewayProxyEventV2): string {
  return (event.headers?.['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function rawBody(event: APIGatewayProxyEventV2): Buffer {
  const body = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.byteLength > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`payload is ${bytes.byteLength} bytes; the limit is ${MAX_BODY_BYTES}`);
  }
  return bytes;
}

/** JSON text that must hold an object (Rollbar answers 400 to anything else). */
function parseJsonObject(text: string): RequestFields {
  if (text.trim() === '') throw new BadRequestError('request body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequestError('invalid JSON in request body');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BadRequestError('request body must be a JSON object');
  }
  return parsed as RequestFields;
}

/** A JSON body of any shape (the rules API takes an array or an object); 400 when it is not JSON. */
export function readJson(event: APIGatewayProxyEventV2): unknown {
  const text = rawBody(event).toString('utf8');
  if (text.trim() === '') throw new BadRequestError('request body is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequestError('invalid JSON in request body');
  }
}

/** A JSON body that must be an object (Rollbar answers 400 to anything else). */
export function readJsonObject(event: APIGatewayProxyEventV2): RequestFields {
  return parseJsonObject(rawBody(event).toString('utf8'));
}

const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);

/** A form's fields, url-encoded or multipart; the web platform's own parser reads both. */
async function readForm(event: APIGatewayProxyEventV2, contentType: string): Promise<RequestFields> {
  const bytes = rawBody(event);
  let form: FormData;
  try {
    form = await new Request('http://faultline.invalid/', {
      method: 'POST',
      headers: { 'content-type': event.headers?.['content-type'] ?? contentType },
      body: bytes,
    }).formData();
  } catch (error) {
    throw new BadRequestError('malformed form body', { cause: error });
  }
  const fields: RequestFields = {};
  for (const [name, value] of form.entries()) {
    fields[name] = typeof value === 'string' ? value : await value.text();
  }
  return fields;
}

/**
 * A body sent as JSON, a url-encoded form (`requests.post(url, {...})`) or multipart (`curl -F`).
 * Forms carry strings only.
 */
export async function readFields(event: APIGatewayProxyEventV2): Promise<RequestFields> {
  const contentType = contentTypeOf(event);
  return FORM_TYPES.has(contentType) ? readForm(event, contentType) : readJsonObject(event);
}

/**
 * An item: a JSON body, or a form whose `payload` parameter holds that JSON, the two ways Rollbar's
 * API takes one (older notifiers post the form). `curl -d '{…}'` labels plain JSON as a form, so a
 * body that opens as a JSON object is read as JSON whatever its label.
 */
export async function readItemBody(event: APIGatewayProxyEventV2): Promise<RequestFields> {
  const contentType = contentTypeOf(event);
  if (!FORM_TYPES.has(contentType) || rawBody(event).toString('utf8').trimStart().startsWith('{')) {
    return readJsonObject(event);
  }
  const { payload } = await readForm(event, contentType);
  if (typeof payload !== 'string') {
    throw new BadRequestError('a form body carries the item as JSON in its `payload` parameter');
  }
  return parseJsonObject(payload);
}

/**
 * The token from `X-Rollbar-Access-Token`, else the query's or the body's `access_token`. API Gateway
 * may leave out `headers` and `queryStringParameters` when there are none.
 */
export function accessTokenOf(event: APIGatewayProxyEventV2, fields?: RequestFields): string | undefined {
  const header = event.headers?.['x-rollbar-access-token']?.trim();
  if (header) return header;
  const query = event.queryStringParameters?.access_token?.trim();
  if (query) return query;
  const fromBody = fields?.access_token;
  return typeof fromBody === 'string' && fromBody.trim() !== '' ? fromBody.trim() : undefined;
}
