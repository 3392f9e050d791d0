/** The one room a socket joins: its user's. Events are only ever emitted to one of these. */
export const userRoom = (userId: string): string => `user:${userId}`;
