// Changing an item by hand (PATCH /api/1/item/{id}): reads the request, plans the change with the
// item rules, has the store write it, and answers with the item resource.
import { z } from 'zod';
import { itemResource } from '#shared/api/resources';
import { LEVELS } from '#shared/domain/levels';
import { NotFoundError } from '#shared/errors';
import type { ProjectService } from '#shared/projects/service';
import type { ItemRepository } from '#shared/store/items';
import { parseInput } from '#shared/validation';
import { ITEM_STATUSES } from './item';
import { planUserChange } from './rules';

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
      planUserChange(
        project.projectId,
        itemId,
        { status: change.status, resolvedInVersion: change.resolved_in_version, level: change.level },
        now(),
      ),
    );
    if (!updated) throw new NotFoundError(`item ${itemId} not found`);
    return itemResource(updated);
  };
}
