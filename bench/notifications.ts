// How fast and at what cost a new error becomes a notification: the whole local stack (ingest, worker,
// fold, fan-out, sender) with a webhook rule, a local receiver, and the DynamoDB writes the fan-out and
// the sender make per notified event, as recorded where every SDK request leaves the process.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { recordSentActions } from '#infra/local/sent-actions';
import { startLocalStack } from '#infra/local/stack';
import { createDocumentClient } from '#shared/aws/clients';
import { RULE_CACHE_MS } from '#shared/notifications/fan-out/rule-cache';
import { logger } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { credentials, region } from '../test/support/emulators';
import { startWebhookReceiver } from '../test/support/vendors/webhook-receiver';
import { itemSize } from './item-size';

export const NOTIFIED_ERRORS = 30;

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

export interface NotificationResult {
  events: number;
  /** Milliseconds from sending the post to the webhook's arrival, each event. */
  latenciesMs: number[];
  /** Writes to the notifications table by the fan-out and the sender, per notified event. */
  writesPerEvent: number;
  /** Every row those writes left is under 1 KB, so each standalone write bills one unit. */
  largestRowBytes: number;
  /** Messages the fan-out queued per event (the sender's receives are not DynamoDB writes). */
  messagesPerEvent: number;
}

export async function measureNotifications(): Promise<NotificationResult> {
  // The handlers' log lines (one shared logger in this process) would bury the figures.
  logger.setLogLevel('ERROR');
  const recorder = recordSentActions();
  const stack = await startLocalStack({ port: 0, quiet: true, prefix: 'bench' });
  const receiver = await startWebhookReceiver();
  const dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
  try {
    const projects = createProjectService({
      projects: new DynamoDBProjectRepository(createDocumentClient(dynamodb), stack.tableNames.projects),
    });
    const { tokens } = await projects.createProject({ name: 'bench' });
    const created = await fetch(`${stack.url}/api/1/notifications/webhook/rules`, {
      method: 'POST',
      headers: { 'X-Rollbar-Access-Token': tokens.write, 'content-type': 'application/json' },
      body: JSON.stringify([{ trigger: 'new_item', config: { url: receiver.url } }]),
    });
    if (!created.ok) throw new Error(`the rule was refused: ${await created.text()}`);
    await new Promise((resolve) => setTimeout(resolve, RULE_CACHE_MS + 500));
    const before = recorder.actions.length;

    const latenciesMs: number[] = [];
    for (let i = 0; i < NOTIFIED_ERRORS; i++) {
      const sent = performance.now();
      const posted = await fetch(`${stack.url}/api/1/item/`, {
        method: 'POST',
        headers: { 'X-Rollbar-Access-Token': tokens.post_server_item, 'content-type': 'application/json' },
        body: JSON.stringify({
          data: {
            environment: 'production',
            fingerprint: `bench-notification-${i}`,
            body: {
              trace: {
                frames: [{ filename: 'app.js', method: 'checkout' }],
                exception: { class: 'Error', message: `bench ${i}` },
              },
            },
          },
        }),
      });
      if (!posted.ok) throw new Error(`the post was refused: ${await posted.text()}`);
      await receiver.waitForAccepted(i + 1, 30_000);
      latenciesMs.push(performance.now() - sent);
    }
    await stack.idle();

    const mine = recorder.actions.slice(before);
    const notificationTable = stack.tableNames.notifications;
    const writes = mine.filter(
      (action) =>
        (action.functionName === 'fanOutNotifications' || action.functionName === 'sendNotifications') &&
        action.resource === notificationTable &&
        WRITES.has(action.action),
    ).length;
    const messages = mine.filter(
      (action) =>
        action.functionName === 'fanOutNotifications' &&
        action.service === 'sqs' &&
        action.action === 'SendMessage',
    ).length;
    const { Items = [] } = await createDocumentClient(dynamodb).send(
      new ScanCommand({ TableName: notificationTable }),
    );
    const largestRowBytes = Math.max(...Items.map((row) => itemSize(row)));
    return {
      events: receiver.accepted().length,
      latenciesMs,
      writesPerEvent: writes / NOTIFIED_ERRORS,
      largestRowBytes,
      messagesPerEvent: messages / NOTIFIED_ERRORS,
    };
  } finally {
    recorder.stop();
    dynamodb.destroy();
    await receiver.stop();
    await stack.stop();
  }
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
