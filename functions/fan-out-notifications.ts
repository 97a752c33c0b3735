// Placeholder while the notification work is merged: replaced by its real handler before anything ships.
export const handler = async (): Promise<never> => {
  throw new Error('not built yet');
};
