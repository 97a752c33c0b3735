// DynamoDB update expressions for the fold's writes: an item's change on the conditions of what
// was read, and a count row's atomic add.
import type { ItemChange } from '#shared/items/rules';

export interface UpdateExpression {
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/**
 * Sets and adds the change's attributes, on condition that the item exists, is of the change's
 * project, and has the status (and the unlocked level) it was read with. New people go into the
 * item's own set on condition that the set still holds `peopleInItemRow`: then no one else
 * counted these people meanwhile.
 */
export function itemChangeUpdate(
  change: ItemChange,
  newPeople: readonly string[],
  peopleInItemRow: number,
): UpdateExpression {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const adds: string[] = [];
  let index = 0;
  for (const [attribute, value] of Object.entries(change.set)) {
    names[`#s${index}`] = attribute;
    values[`:s${index}`] = value;
    sets.push(`#s${index} = :s${index}`);
    index++;
  }
  for (const [attribute, value] of Object.entries(change.add)) {
    names[`#a${index}`] = attribute;
    values[`:a${index}`] = value;
    adds.push(`#a${index} :a${index}`);
    index++;
  }
  names['#status'] = 'status';
  names['#project'] = 'project_id';
  values[':expectedStatus'] = change.expected?.status;
  values[':project'] = change.projectId;
  // An item id can collide across projects: never count into another project's item.
  let condition = 'attribute_exists(PK) AND #project = :project AND #status = :expectedStatus';
  if (change.expected?.level) {
    names['#level'] = 'level';
    names['#levelLock'] = 'level_lock';
    values[':expectedLevel'] = change.expected.level;
    values[':unlocked'] = false;
    condition += ' AND #level = :expectedLevel AND #levelLock = :unlocked';
  }
  if (newPeople.length > 0) {
    names['#people'] = 'people';
    values[':people'] = new Set(newPeople);
    adds.push('#people :people');
    if (peopleInItemRow === 0) condition += ' AND attribute_not_exists(#people)';
    else {
      values[':peopleInRow'] = peopleInItemRow;
      condition += ' AND size(#people) = :peopleInRow';
    }
  }
  return {
    UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', `ADD ${adds.join(', ')}`]
      .join(' ')
      .trim(),
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** Adds to a count row, and sets when it expires (hourly rows expire; daily rows are kept). */
export function countAddUpdate(count: number, expiresAt: number | undefined): UpdateExpression {
  return {
    UpdateExpression: expiresAt === undefined ? 'ADD #count :n' : 'ADD #count :n SET expires_at = :expires',
    ExpressionAttributeNames: { '#count': 'count' },
    ExpressionAttributeValues:
      expiresAt === undefined ? { ':n': count } : { ':n': count, ':expires': expiresAt },
  };
}
