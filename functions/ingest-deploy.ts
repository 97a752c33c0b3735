// POST /api/1/deploy/ records a deploy; PATCH /api/1/deploy/{deployId} updates its status.
// In an edge region (no items table) both go through the ingest queue and are recorded at home.
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { ValidationError } from '#shared/errors';
import { accessTokenOf, readFields } from '#shared/http/request';
import { json, ok } from '#shared/http/response';
import { routedHandler } from '#shared/http/router';
import { createDeployIngest, createEdgeDeployIngest } from '#shared/ingest/deploy-ingest';
import { logger } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { SqsDeployQueue } from '#shared/queue/ingest-queue';
import { DynamoDBDeployRepository } from '#shared/store/deploys';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { tables as tableDeclarations } from '#shared/wiring/tables';

const tables = tableNames(['projects']);
const documents = createDocumentClient();
const projectRepository = new DynamoDBProjectRepository(documents, tables.projects);
const projects = createProjectService({ projects: projectRepository });
const atEdge = !process.env[tableDeclarations.items.envVar];

const home = atEdge
  ? undefined
  : createDeployIngest({
      projects,
      projectRepository,
      deploys: new DynamoDBDeployRepository(documents, tableNames(['items']).items),
    });
const edge = atEdge
  ? createEdgeDeployIngest({
      projects,
      queue: new SqsDeployQueue(createSqsClient(), queueUrls(['ingest']).ingest),
    })
  : undefined;

function deployIdOf(value: string | undefined): number {
  const deployId = Number(value);
  if (!Number.isSafeInteger(deployId) || deployId <= 0)
    throw new ValidationError('deploy id must be a number');
  return deployId;
}

export const handler = routedHandler('ingestDeploy', {
  'POST /api/1/deploy': async (event) => {
    const fields = await readFields(event);
    const token = accessTokenOf(event, fields);
    if (edge) {
      const queued = await edge.recordDeploy({ token, fields });
      logger.info('deploy sent to the home region', { project_id: queued.project_id, uuid: queued.uuid });
      // The home region numbers it: no id yet. The uuid names it in the home's logs.
      return json(200, { data: { deploy_id: null, uuid: queued.uuid } });
    }
    const deploy = await home!.recordDeploy({ token, fields });
    logger.info('deploy recorded', { project_id: deploy.project_id, deploy_id: deploy.id });
    // Rollbar's deploy answer, which deploy scripts read the id from.
    return json(200, { data: { deploy_id: deploy.id } });
  },
  'PATCH /api/1/deploy/{deployId}': async (event) => {
    const fields = await readFields(event);
    const input = {
      token: accessTokenOf(event, fields),
      deployId: deployIdOf(event.pathParameters?.deployId),
      fields,
    };
    if (edge) return ok(await edge.updateDeployStatus(input));
    return ok(await home!.updateDeployStatus(input));
  },
});
