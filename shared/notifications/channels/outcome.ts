// How a vendor's answer becomes a delivery outcome, the same for every channel: 2xx sent; 408, 429
// and 5xx worth retrying (with the vendor's hint: Retry-After in seconds or as a date, or Discord's
// `retry_after` in the body); any other 4xx final; a refused target final; a network failure retried.
import type { DeliveryOutcome, OutboundHttp, OutboundRequest, OutboundResponse } from '../channel';
import { OutboundNetworkError, OutboundRefusedError } from '../outbound-http';

/** Logs keep this much of a vendor's answer. */
export const RESPONSE_EXCERPT_CHARS = 500;

export const excerpt = (text: string): string =>
  text.length > RESPONSE_EXCERPT_CHARS ? `${text.slice(0, RESPONSE_EXCERPT_CHARS - 1)}…` : text;

/** The vendor's wait hint in milliseconds, if it gave one. */
export function retryAfterMs(response: OutboundResponse, now = Date.now()): number | undefined {
  const header = response.headers['retry-after'];
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  // Discord (and Slack's Web API) answer 429 with `retry_after` in seconds in a JSON body.
  try {
    const body = JSON.parse(response.body) as { retry_after?: unknown };
    if (typeof body.retry_after === 'number' && body.retry_after >= 0)
      return Math.ceil(body.retry_after * 1000);
  } catch {
    // Not JSON: no hint.
  }
  return undefined;
}

export function outcomeOfResponse(response: OutboundResponse): DeliveryOutcome {
  const answer = excerpt(`${response.status} ${response.body}`.trim());
  if (response.status >= 200 && response.status < 300) {
    return { status: 'sent', httpStatus: response.status, response: answer };
  }
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    const wait = retryAfterMs(response);
    return {
      status: 'retry',
      httpStatus: response.status,
      response: answer,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    };
  }
  // 3xx (redirects are not followed) and every other 4xx: retrying the same request cannot help.
  return { status: 'failed', httpStatus: response.status, response: answer };
}

/** An error from the outbound client: refused targets are final, network failures retried; anything else is a bug. */
export function outcomeOfError(error: unknown): DeliveryOutcome {
  if (error instanceof OutboundRefusedError) {
    return {
      status: 'failed',
      httpStatus: null,
      response: excerpt(`refused: ${error.message}`),
      refused: true,
    };
  }
  if (error instanceof OutboundNetworkError) {
    return { status: 'retry', httpStatus: null, response: excerpt(`network: ${error.message}`) };
  }
  throw error;
}

/** Sends one request and classifies the answer: what most channels need and nothing more. */
export async function sendAndClassify(
  http: OutboundHttp,
  request: OutboundRequest,
): Promise<DeliveryOutcome> {
  try {
    return outcomeOfResponse(await http.send(request));
  } catch (error) {
    return outcomeOfError(error);
  }
}
