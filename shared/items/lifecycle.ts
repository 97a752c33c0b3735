// Changing an item by hand: resolve (optionally in a version), reopen, mute, set its level.
import { z } from 'zod';
import { LEVELS } from '#shared/domain/levels';
import { NotFoundError } from '#shared/errors';
import type { ProjectService } from '#shared/projects/service';
import { itemResource } from '#shared/read/service';
import { ITEM_STATUSES, type ItemRepository } from '#shared/store/items';
import { parseInput } from '#shared/validation';

/**
 * Rollbar's "if not empty, a string up to 40 characters": empty (all a form can send for none) and
 * null mean no version; a number (`"resolved_in_version": 2` in JSON) is its decimal text.
 */
const resolvedInVersion = z
  .union([z.string().trim().max(40), z.number().finite().transform(String), z.null()])
  .transform((version) => (version === '' ? null : version));

/** A JSON body or a form's fields (forms carry strings, which every field here is). */
export const itemUpdateSchema = z
  .strictObject({
    status: z.enum(ITEM_STATUSES).optional(),
    resolved_in_version: resolvedInVersion.optional(),
    level: z.enum(LEVELS).optional(),
  })
  .refine((fields) => fields.status !== undefined || fields.level !== undefined, {
    // As in Rollbar, the version is only used by a resolve: alone it would change nothing.
    message: 'nothing to change: send status or level (resolved_in_version goes with status "resolved")',
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
        // Only a resolve reads it; any other status clears it (see `UserItemChange`).
        resolvedInVersion: change.status === 'resolved' ? (change.resolved_in_version ?? null) : undefined,
        level: change.level,
      },
      now(),
    );
    if (!updated) throw new NotFoundError(`item ${itemId} not found`);
    return itemResource(updated);
  };
}
