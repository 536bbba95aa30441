// Ids are Postgres uuids; anything else cannot name a row, so lookups answer "not found" for it
// instead of letting Postgres fail on the cast.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: string): boolean => UUID.test(s);
