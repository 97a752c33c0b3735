// Changing an item by hand: resolve (optionally in a version), reopen, mute, set its level.
import { z } from 'zod';
import { LEVELS } from '#shared/domain/levels';
import { NotFoundError } from '#shared/errors';
import type { ProjectService } from '#shared/projects/service';
import { itemResource } from '#shared/read/service';
import { ITEM_STATUSES, type ItemRepository } from '#shared/store/items';
import { parseInput } from '#shared/validation';

export const itemUpdateSchema = z
  .strictObject({
    status: z.enum(ITEM_STATUSES).optional(),
    resolved_in_version: z.union([z.string().min(1).max(40), z.null()]).optional(),
    level: z.enum(LEVELS).optional(),
  })
  .refine((fields) => Object.values(fields).some((value) => value !== undefined), {
    message: 'nothing to change: send status, resolved_in_version or level',
  });

export function createItemLifecycle(deps: {
  projects: ProjectService;
  items: ItemRepository;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;

  return async function updateItem(input: {
    token: string | undefined;
    itemId: string | undefined;
    fields: unknown;
  }) {
    const { project } = await deps.projects.authorize(input.token, ['write']);
    const itemId = parseInput(
      z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
      input.itemId,
      'item id',
    );
    const { access_token: _token, ...fields } = (input.fields ?? {}) as Record<string, unknown>;
    const change = parseInput(itemUpdateSchema, fields, 'body');
    const updated = await deps.items.applyUserChange(
      project.projectId,
      itemId,
      {
        status: change.status,
        resolvedInVersion: change.resolved_in_version,
        level: change.level,
      },
      now(),
    );
    if (!updated) throw new NotFoundError(`item ${itemId} not found`);
    return itemResource(updated);
  };
}
