// Accepting a Rollbar item: check the token, validate the payload, give it a uuid, enqueue it.
import { randomUUID } from 'node:crypto';
import { canonicalUuid, type ItemData, itemPayloadSchema } from '#shared/domain/payload';
import type { ProjectService } from '#shared/projects/service';
import type { OccurrenceQueue } from '#shared/queue/ingest-queue';
import { parseInput } from '#shared/validation';

export interface ItemIngestDeps {
  projects: ProjectService;
  queue: OccurrenceQueue;
  now?: () => number;
}

export interface AcceptedItem {
  projectId: number;
  uuid: string;
}

/** Browser SDKs hold a client token; server SDKs a server one. Either may post, as on Rollbar. */
const POST_SCOPES = ['post_server_item', 'post_client_item'] as const;

export function createItemIngest(deps: ItemIngestDeps) {
  const now = deps.now ?? Date.now;

  return async function acceptItem(input: {
    token: string | undefined;
    body: unknown;
  }): Promise<AcceptedItem> {
    const { project } = await deps.projects.authorize(input.token, POST_SCOPES);
    // Worded like Rollbar's own `Invalid format. data.body is missing`.
    const data: ItemData = parseInput(itemPayloadSchema, input.body, 'payload', 'Invalid format. ').data;
    // A client's uuid is kept (in one spelling) so a retried post is recognised as the same one.
    const uuid = data.uuid ? canonicalUuid(data.uuid) : randomUUID();
    await deps.queue.send({
      version: 1,
      project_id: project.projectId,
      grouping_version: project.groupingVersion,
      received_at: now(),
      uuid,
      data: { ...data, uuid },
    });
    return { projectId: project.projectId, uuid };
  };
}
