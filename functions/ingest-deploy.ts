// POST /api/1/deploy/ records a deploy; PATCH /api/1/deploy/{deployId} updates its status.
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { ValidationError } from '#shared/errors';
import { accessTokenOf, readFields } from '#shared/http/request';
import { json, ok, withHeaders } from '#shared/http/response';
import { routedHandler } from '#shared/http/router';
import { createDeployIngest } from '#shared/ingest/deploy-ingest';
import { logger } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { rateLimitHeaders } from '#shared/rate-limits/headers';
import { createRateLimiter } from '#shared/rate-limits/limiter';
import { DynamoDBDeployRepository } from '#shared/store/deploys';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { DynamoDBRateLimitCounter } from '#shared/store/rate-limit-counter';

const tables = tableNames(['projects', 'items', 'rateLimits']);
const documents = createDocumentClient();
const projectRepository = new DynamoDBProjectRepository(documents, tables.projects);
const deploys = createDeployIngest({
  projects: createProjectService({ projects: projectRepository }),
  rateLimiter: createRateLimiter({ counter: new DynamoDBRateLimitCounter(documents, tables.rateLimits) }),
  projectRepository,
  deploys: new DynamoDBDeployRepository(documents, tables.items),
});

export const handler = routedHandler('ingestDeploy', {
  'POST /api/1/deploy': async (event) => {
    const fields = await readFields(event);
    const { deploy, rateLimit } = await deploys.recordDeploy({ token: accessTokenOf(event, fields), fields });
    logger.info('deploy recorded', { project_id: deploy.project_id, deploy_id: deploy.id });
    // Rollbar's deploy answer, which deploy scripts read the id from.
    return withHeaders(json(200, { data: { deploy_id: deploy.id } }), rateLimitHeaders(rateLimit));
  },
  'PATCH /api/1/deploy/{deployId}': async (event) => {
    const fields = await readFields(event);
    const deployId = Number(event.pathParameters?.deployId);
    if (!Number.isSafeInteger(deployId) || deployId <= 0)
      throw new ValidationError('deploy id must be a number');
    const { deploy, rateLimit } = await deploys.updateDeployStatus({
      token: accessTokenOf(event, fields),
      deployId,
      fields,
    });
    return withHeaders(ok(deploy), rateLimitHeaders(rateLimit));
  },
});
