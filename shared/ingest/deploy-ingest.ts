// Recording deploys as deploy scripts send them, and updating their status: at once where the items
// table is (one region, or a pipeline region), or, posted to an edge region, through its ingest queue
// to the home region, whose storing worker records them (`createQueuedDeployRecorder`).
import { z } from 'zod';
import { deployResource } from '#shared/api/resources';
import { storableJson } from '#shared/domain/storable-json';
import { NotFoundError } from '#shared/errors';
import type { ProjectService } from '#shared/projects/service';
import type { DeployQueue, QueuedDeployMessage } from '#shared/queue/ingest-queue';
import { DEPLOY_STATUSES, type Deploy, type DeployRepository } from '#shared/store/deploys';
import type { ProjectRepository } from '#shared/store/projects';
import { parseInput } from '#shared/validation';

const optionalText = (max: number) =>
  z
    .string()
    .max(max)
    .optional()
    .transform((value) => (value === undefined || value === '' ? null : value));

/** Deploy scripts send a revision or environment as a number now and then (`revision: 42`). */
const text = () => z.union([z.string(), z.number()]).transform(String);

export const deployInputSchema = z.object({
  environment: text().pipe(z.string().min(1, 'environment is required').max(255)),
  revision: text().pipe(z.string().min(1, 'revision is required').max(255)),
  local_username: optionalText(255),
  rollbar_username: optionalText(255),
  comment: optionalText(4096),
  status: z.enum(DEPLOY_STATUSES).optional(),
});

const statusInputSchema = z.object({ status: z.enum(DEPLOY_STATUSES) });

type DeployFields = z.infer<typeof deployInputSchema>;

function readDeployFields(fields: Record<string, unknown>): DeployFields {
  // Storable as an occurrence is: unpaired surrogates would not survive DynamoDB's UTF-8.
  return parseInput(deployInputSchema, storableJson(fields).value, 'body');
}

/** The deploy the fields describe, received at `receivedAt` (ms), before it is numbered. */
function deployOf(projectId: number, fields: DeployFields, receivedAt: number): Omit<Deploy, 'id'> {
  const status = fields.status ?? 'succeeded';
  const startedAt = Math.floor(receivedAt / 1000);
  return {
    project_id: projectId,
    environment: fields.environment,
    revision: fields.revision,
    local_username: fields.local_username,
    rollbar_username: fields.rollbar_username,
    comment: fields.comment,
    status,
    start_time: startedAt,
    finish_time: status === 'started' ? null : startedAt,
  };
}

export interface DeployIngestDeps {
  projects: ProjectService;
  projectRepository: ProjectRepository;
  deploys: DeployRepository;
  now?: () => number;
}

export function createDeployIngest(deps: DeployIngestDeps) {
  const now = deps.now ?? Date.now;

  async function recordDeploy(input: {
    token: string | undefined;
    fields: Record<string, unknown>;
  }): Promise<Deploy> {
    const { project } = await deps.projects.authorize(input.token, ['post_server_item', 'write']);
    // Read before numbering: a refused deploy takes no number.
    const described = deployOf(project.projectId, readDeployFields(input.fields), now());
    const deploy: Deploy = {
      id: await deps.projectRepository.takeNumber(project.projectId, 'deploy_counter'),
      ...described,
    };
    await deps.deploys.put(deploy);
    return deploy;
  }

  async function updateDeployStatus(input: {
    token: string | undefined;
    deployId: number;
    fields: Record<string, unknown>;
  }) {
    const { project } = await deps.projects.authorize(input.token, ['post_server_item', 'write']);
    const { status } = parseInput(statusInputSchema, input.fields, 'body');
    const updated = await deps.deploys.updateStatus(
      project.projectId,
      input.deployId,
      status,
      Math.floor(now() / 1000),
    );
    if (!updated) throw new NotFoundError(`deploy ${input.deployId} not found`);
    return deployResource(updated);
  }

  return { recordDeploy, updateDeployStatus };
}

/**
 * An edge region's deploys (it has no items table): validated and authorized here as at home, then
 * sent through the ingest queue. The deploy is numbered at home, so the answer carries no id yet.
 */
export function createEdgeDeployIngest(deps: {
  projects: ProjectService;
  queue: DeployQueue;
  now?: () => number;
  newUuid?: () => string;
}) {
  const now = deps.now ?? Date.now;
  const newUuid = deps.newUuid ?? (() => crypto.randomUUID());

  async function recordDeploy(input: {
    token: string | undefined;
    fields: Record<string, unknown>;
  }): Promise<{ project_id: number; uuid: string }> {
    const { project } = await deps.projects.authorize(input.token, ['post_server_item', 'write']);
    const fields = readDeployFields(input.fields);
    const uuid = newUuid();
    await deps.queue.send({
      version: 1,
      kind: 'deploy',
      uuid,
      project_id: project.projectId,
      received_at: now(),
      deploy: {
        environment: fields.environment,
        revision: fields.revision,
        local_username: fields.local_username,
        rollbar_username: fields.rollbar_username,
        comment: fields.comment,
        status: fields.status ?? 'succeeded',
      },
    });
    return { project_id: project.projectId, uuid };
  }

  async function updateDeployStatus(input: {
    token: string | undefined;
    deployId: number;
    fields: Record<string, unknown>;
  }) {
    const { project } = await deps.projects.authorize(input.token, ['post_server_item', 'write']);
    const { status } = parseInput(statusInputSchema, input.fields, 'body');
    await deps.queue.send({
      version: 1,
      kind: 'deploy_status',
      project_id: project.projectId,
      deploy_id: input.deployId,
      status,
      received_at: now(),
    });
    return { id: input.deployId, project_id: project.projectId, status };
  }

  return { recordDeploy, updateDeployStatus };
}

export interface QueuedDeployRecorder {
  /** Records one deploy message; a message delivered again changes nothing. */
  record(message: QueuedDeployMessage): Promise<void>;
}

/**
 * The home region's side of deploys posted to an edge: the storing worker hands them here. A deploy
 * is recorded once per message uuid; a status is set to what the message says (again, the same).
 * A status for a deploy that does not exist is dropped with a warning: at home it would be a 404,
 * and waiting would not make it exist.
 */
export function createQueuedDeployRecorder(deps: {
  projectRepository: Pick<ProjectRepository, 'takeNumber'>;
  deploys: Pick<DeployRepository, 'putOnce' | 'updateStatus'>;
  warn?: (message: string, details: Record<string, unknown>) => void;
}): QueuedDeployRecorder {
  return {
    async record(message) {
      if (message.kind === 'deploy') {
        const deploy = deployOf(
          message.project_id,
          { ...message.deploy, status: message.deploy.status },
          message.received_at,
        );
        await deps.deploys.putOnce(deploy, message.uuid, () =>
          deps.projectRepository.takeNumber(message.project_id, 'deploy_counter'),
        );
        return;
      }
      const updated = await deps.deploys.updateStatus(
        message.project_id,
        message.deploy_id,
        message.status,
        Math.floor(message.received_at / 1000),
      );
      if (!updated) {
        deps.warn?.('deploy status for a deploy that does not exist; dropped', {
          project_id: message.project_id,
          deploy_id: message.deploy_id,
        });
      }
    },
  };
}
