import type { z } from 'zod';
import { findUnstorableText, type ValidationIssue } from '@cwo/contracts';
import { validationFailed } from './errors';

// Turns zod issues into the 422 detail of docs/http-api.md: pydantic-style {loc, msg, type}, so
// clients that read `type` (e.g. "missing", "string_too_short") keep working.

export type Location = 'body' | 'query';

type ZodIssue = z.core.$ZodIssue;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const quoteList = (values: readonly unknown[]): string => {
  const quoted = values.map((v) => `'${String(v)}'`);
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
};

/** pydantic's type and message for one zod issue. */
function describe(issue: ZodIssue, value: unknown, location: Location): { type: string; msg: string } {
  if (value === undefined) return { type: 'missing', msg: 'Field required' };
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'string') return { type: 'string_too_short', msg: issue.message };
      if (issue.origin === 'number' || issue.origin === 'int')
        return { type: 'greater_than_equal', msg: `Input should be greater than or equal to ${issue.minimum}` };
      break;
    case 'too_big':
      if (issue.origin === 'string') return { type: 'string_too_long', msg: issue.message };
      if (issue.origin === 'number' || issue.origin === 'int')
        return { type: 'less_than_equal', msg: `Input should be less than or equal to ${issue.maximum}` };
      break;
    case 'invalid_value':
      return { type: 'enum', msg: `Input should be ${quoteList(issue.values)}` };
    case 'custom':
      return { type: 'value_error', msg: `Value error, ${issue.message}` };
    case 'invalid_type':
      if (issue.path.length === 0 && location === 'body')
        return {
          type: 'model_attributes_type',
          msg: 'Input should be a valid dictionary or object to extract fields from',
        };
      if (issue.expected === 'string') return { type: 'string_type', msg: 'Input should be a valid string' };
      if (issue.expected === 'number' || issue.expected === 'int')
        return { type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' };
      break;
  }
  return { type: issue.code, msg: issue.message };
}

export function toValidationIssues(issues: readonly ZodIssue[], input: unknown, location: Location): ValidationIssue[] {
  return issues.map((issue) => ({
    loc: [location, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
    ...describe(issue, issue.path.length === 0 ? input : valueAt(input, issue.path), location),
  }));
}

const samePath = (a: readonly unknown[], b: readonly unknown[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The parsed value, or a 422 HttpError listing every problem. Every string of the input, known
 * field or not, is first checked for text Postgres cannot store (NUL, lone surrogates): one check
 * for every body and query, whatever the route's schema says.
 */
export function parseOr422<S extends z.ZodType>(schema: S, input: unknown, location: Location): z.output<S> {
  const unstorable: ValidationIssue[] = findUnstorableText(input).map(({ path, type, msg }) => ({
    loc: [location, ...path],
    msg,
    type,
  }));
  const result = schema.safeParse(input);
  if (result.success && unstorable.length === 0) return result.data;
  // The schema's complaint about a field already reported as unstorable would only repeat it.
  const others = result.success
    ? []
    : toValidationIssues(result.error.issues, input, location).filter(
        (issue) => !unstorable.some((u) => samePath(u.loc, issue.loc)),
      );
  throw validationFailed([...unstorable, ...others]);
}
