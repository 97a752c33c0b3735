// POST /api/1/deploy/ records a deploy; PATCH /api/1/deploy/{deployId} updates its status.
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { ValidationError } from '#shared/errors';
import { accessTokenOf, readFields } from '#shared/http/request';
import { json, ok } from '#shared/http/response';
import { routedHandler } from '#shared/http/router';
import { createDeployIngest } from '#shared/ingest/deploy-ingest';
import { logger } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBDeployRepository } from '#shared/store/deploys';
import { DynamoDBProjectRepository } from '#shared/store/projects';

const tables = tableNames(['projects', 'items']);
const documents = createDocumentClient();
const projectRepository = new DynamoDBProjectRepository(documents, tables.projects);
const deploys = createDeployIngest({
  projects: createProjectService({ projects: projectRepository }),
  projectRepository,
  deploys: new DynamoDBDeployRepository(documents, tables.items),
});

export const handler = routedHandler('ingestDeploy', {
  'POST /api/1/deploy': async (event) => {
    const fields = await readFields(event);
    const deploy = await deploys.recordDeploy({ token: accessTokenOf(event, fields), fields });
    logger.info('deploy recorded', { project_id: deploy.project_id, deploy_id: deploy.id });
    // Rollbar's deploy answer, which deploy scripts read the id from.
    return json(200, { data: { deploy_id: deploy.id } });
  },
  'PATCH /api/1/deploy/{deployId}': async (event) => {
    const fields = await readFields(event);
    const deployId = Number(event.pathParameters?.deployId);
    if (!Number.isSafeInteger(deployId) || deployId <= 0)
      throw new ValidationError('deploy id must be a number');
    return ok(await deploys.updateDeployStatus({ token: accessTokenOf(event, fields), deployId, fields }));
  },
});
