// Moved: the item rules live in `#shared/items/rules`, collision ids beside item ids in `./occurrence`.
// Kept only so the fold's files, being restructured on another branch, build unchanged; delete it
// once they import from there.
export { type ItemChange, planItemChange } from '#shared/items/rules';
export { collisionItemId } from './occurrence';
