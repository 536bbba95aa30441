import type { Job, Project } from '@cwo/db';

// Rows that come back from raw SQL as `row_to_json(...)`, turned into the shapes Prisma's client
// returns (camelCase keys, Dates, the BigInt seq), so the rest of the API cannot tell the difference.

const DATE_KEY = /_at$/;

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function fromJsonRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value !== null && DATE_KEY.test(key)) out[camel(key)] = new Date(value as string);
    else if (key === 'seq') out.seq = BigInt(value as number | string);
    else out[camel(key)] = value;
  }
  return out;
}

export const projectFromJson = (row: Record<string, unknown>): Project => fromJsonRow(row) as unknown as Project;
export const jobFromJson = (row: Record<string, unknown>): Job => fromJsonRow(row) as unknown as Job;
