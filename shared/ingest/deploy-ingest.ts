// Recording deploys as deploy scripts send them, and updating their status.
import { z } from 'zod';
import { deployResource } from '#shared/api/resources';
import { storableJson } from '#shared/domain/storable-json';
import { NotFoundError } from '#shared/errors';
import type { ProjectService } from '#shared/projects/service';
import type { RateLimitDecision, RateLimiter } from '#shared/rate-limits/limiter';
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

export interface DeployIngestDeps {
  projects: ProjectService;
  /** Deploy calls count against their token's calls per minute, as items do. */
  rateLimiter: RateLimiter;
  projectRepository: ProjectRepository;
  deploys: DeployRepository;
  now?: () => number;
}

export function createDeployIngest(deps: DeployIngestDeps) {
  const now = deps.now ?? Date.now;

  /** The token's project, once the call is counted against the token's rate limit. */
  async function admit(token: string | undefined) {
    const { project, tokenHash, rateLimitPerMinute } = await deps.projects.authorize(token, [
      'post_server_item',
      'write',
    ]);
    return { project, rateLimit: await deps.rateLimiter.admit(tokenHash, rateLimitPerMinute) };
  }

  async function recordDeploy(input: {
    token: string | undefined;
    fields: Record<string, unknown>;
  }): Promise<{ deploy: Deploy; rateLimit: RateLimitDecision }> {
    const { project, rateLimit } = await admit(input.token);
    // Storable as an occurrence is: unpaired surrogates would not survive DynamoDB's UTF-8.
    const fields = parseInput(deployInputSchema, storableJson(input.fields).value, 'body');
    const status = fields.status ?? 'succeeded';
    const startedAt = Math.floor(now() / 1000);
    const deploy: Deploy = {
      id: await deps.projectRepository.takeNumber(project.projectId, 'deploy_counter'),
      project_id: project.projectId,
      environment: fields.environment,
      revision: fields.revision,
      local_username: fields.local_username,
      rollbar_username: fields.rollbar_username,
      comment: fields.comment,
      status,
      start_time: startedAt,
      finish_time: status === 'started' ? null : startedAt,
    };
    await deps.deploys.put(deploy);
    return { deploy, rateLimit };
  }

  async function updateDeployStatus(input: {
    token: string | undefined;
    deployId: number;
    fields: Record<string, unknown>;
  }) {
    const { project, rateLimit } = await admit(input.token);
    const { status } = parseInput(statusInputSchema, input.fields, 'body');
    const updated = await deps.deploys.updateStatus(
      project.projectId,
      input.deployId,
      status,
      Math.floor(now() / 1000),
    );
    if (!updated) throw new NotFoundError(`deploy ${input.deployId} not found`);
    return { deploy: deployResource(updated), rateLimit };
  }

  return { recordDeploy, updateDeployStatus };
}
