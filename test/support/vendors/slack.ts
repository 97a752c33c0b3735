// Slack's incoming webhooks as documented: POST JSON to /services/T…/B…/secret; 200 `ok`; 400
// `invalid_payload` (not JSON), `no_text` (neither text nor blocks), `invalid_blocks` (a block over its
// limits); 404 `no_service` (unknown webhook); 410 `channel_is_archived`; 429 with Retry-After.
import {
  answers,
  isObject,
  jsonOf,
  startVendorServer,
  type VendorAnswer,
  type VendorServer,
} from './vendor-server';

export const SLACK_WEBHOOK_PATH = '/services/T0FAULT01/B0FAULT01/xoxSecretPartOfTheUrl';

export interface SlackWebhook extends VendorServer {
  /** The incoming webhook URL a rule holds. */
  url: string;
}

const plain = (status: number, body: string): VendorAnswer => ({
  status,
  headers: { 'content-type': 'text/plain' },
  body,
});

/** Limits Slack documents for the blocks the channel uses. */
function blockProblem(block: unknown): string | undefined {
  if (!isObject(block) || typeof block.type !== 'string') return 'a block without a type';
  const text = block.text;
  if (isObject(text) && typeof text.text === 'string' && text.text.length > 3000)
    return 'section text over 3000';
  if (Array.isArray(block.fields)) {
    if (block.fields.length > 10) return 'more than 10 fields';
    for (const field of block.fields) {
      if (!isObject(field) || typeof field.text !== 'string' || field.text.length > 2000)
        return 'a field over 2000';
    }
  }
  if (Array.isArray(block.elements) && block.elements.length > (block.type === 'actions' ? 25 : 10)) {
    return 'too many elements';
  }
  return undefined;
}

export async function startSlackWebhook(): Promise<SlackWebhook> {
  const server = await startVendorServer({
    check(request) {
      if (request.method !== 'POST' || request.path !== SLACK_WEBHOOK_PATH) return plain(404, 'no_service');
      const body = jsonOf(request.body);
      if (!request.headers['content-type']?.startsWith('application/json') || !isObject(body)) {
        return plain(400, 'invalid_payload');
      }
      const hasText = typeof body.text === 'string' && body.text.trim() !== '';
      const blocks = body.blocks;
      if (!hasText && !(Array.isArray(blocks) && blocks.length > 0)) return plain(400, 'no_text');
      if (blocks !== undefined) {
        if (!Array.isArray(blocks) || blocks.length > 50) return plain(400, 'invalid_blocks');
        if (blocks.some((block) => blockProblem(block) !== undefined)) return plain(400, 'invalid_blocks');
      }
      return undefined;
    },
    success: () => plain(200, 'ok'),
  });
  return { ...server, url: `${server.origin}${SLACK_WEBHOOK_PATH}` };
}

/** Slack's answers to script. */
export const slackAnswers = {
  rateLimited: (seconds: number) => answers.rateLimited(seconds, 'rate_limited'),
  archived: () => plain(410, 'channel_is_archived'),
  noService: () => plain(404, 'no_service'),
  serverError: () => plain(500, 'internal_error'),
};
