// Rollbar's notifications API: a project's rules per channel, their delivery logs and sample deliveries.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { accessTokenOf, readJson } from '#shared/http/request';
import { ok } from '#shared/http/response';
import { type RouteHandler, routedHandler } from '#shared/http/router';
import { outboundPolicyFromEnv } from '#shared/notifications/outbound-http';
import { createRulesService, type RulesService } from '#shared/notifications/rules-service';
import { loadSecretBox } from '#shared/notifications/secrets';
import { logger } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { SqsDeliveryQueue } from '#shared/queue/notification-queue';
import { DynamoDBDeliveryLog } from '#shared/store/delivery-log';
import { DynamoDBRuleRepository } from '#shared/store/notification-rules';
import { DynamoDBProjectRepository } from '#shared/store/projects';

const tables = tableNames(['projects', 'notifications']);
const queues = queueUrls(['notifications']);
const documents = createDocumentClient();
const rules: RulesService = createRulesService({
  projects: createProjectService({ projects: new DynamoDBProjectRepository(documents, tables.projects) }),
  rules: new DynamoDBRuleRepository(documents, tables.notifications, await loadSecretBox()),
  log: new DynamoDBDeliveryLog(documents, tables.notifications),
  queue: new SqsDeliveryQueue(createSqsClient(), queues.notifications),
  outboundPolicy: outboundPolicyFromEnv(),
});

type Path = { channel?: string; ruleId?: string };

/** The token and the path's channel and rule id in, Rollbar's `{"err":0,"result":…}` out. */
function route(
  call: (token: string | undefined, path: Path, event: APIGatewayProxyEventV2) => Promise<unknown>,
): RouteHandler {
  // API Gateway leaves out `pathParameters` when there are none.
  return async (event) => ok(await call(accessTokenOf(event), event.pathParameters ?? {}, event));
}

export const handler = routedHandler('notificationRules', {
  'GET /api/1/notifications/{channel}/rules': route((token, path) => rules.listRules(token, path.channel)),
  'POST /api/1/notifications/{channel}/rules': route(async (token, path, event) => {
    const created = await rules.createRules(token, path.channel, readJson(event));
    // Ids only: a config holds credentials, which never reach a log.
    logger.info('rules created', { channel: path.channel, rule_ids: created.map((rule) => rule.id) });
    return created;
  }),
  'GET /api/1/notifications/{channel}/rule/{ruleId}': route((token, path) =>
    rules.getRule(token, path.channel, path.ruleId),
  ),
  'PUT /api/1/notifications/{channel}/rule/{ruleId}': route(async (token, path, event) => {
    const replaced = await rules.replaceRule(token, path.channel, path.ruleId, readJson(event));
    logger.info('rule replaced', { channel: path.channel, rule_id: replaced.id, status: replaced.status });
    return replaced;
  }),
  'DELETE /api/1/notifications/{channel}/rule/{ruleId}': route(async (token, path) => {
    const deleted = await rules.deleteRule(token, path.channel, path.ruleId);
    logger.info('rule deleted', { channel: path.channel, rule_id: deleted.id });
    return deleted;
  }),
  'GET /api/1/notifications/{channel}/rule/{ruleId}/log': route((token, path) =>
    rules.deliveryLog(token, path.channel, path.ruleId),
  ),
  'POST /api/1/notifications/{channel}/rule/{ruleId}/test': route(async (token, path) => {
    const sample = await rules.testRule(token, path.channel, path.ruleId);
    logger.info('sample delivery queued', {
      channel: sample.channel,
      rule_id: sample.rule_id,
      key: sample.key,
    });
    return sample;
  }),
});
