// Text that Postgres cannot store. A `text` column refuses U+0000 outright ("invalid byte sequence
// for encoding UTF8: 0x00"), and a lone UTF-16 surrogate has no UTF-8 form: the driver would
// silently turn it into U+FFFD. Both are refused at the edge instead (docs/validation.md).

/** What is wrong with one string, pydantic-style (`type` is stable, `msg` is for people). */
export interface UnstorableText {
  type: 'string_null_character' | 'string_unicode';
  msg: string;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const hex = (code: number) => code.toString(16).padStart(4, '0');

/** Why `s` cannot be stored as text, or undefined when it can. */
export function unstorableText(s: string): UnstorableText | undefined {
  if (s.includes('\u0000')) {
    return { type: 'string_null_character', msg: 'String should not contain the NUL character (\\u0000)' };
  }
  const lone = LONE_SURROGATE.exec(s);
  if (lone) {
    return {
      type: 'string_unicode',
      msg: `Input should be valid Unicode text: it contains an unpaired surrogate (\\u${hex(lone[0].charCodeAt(0))})`,
    };
  }
  return undefined;
}

type Found = UnstorableText & { path: Array<string | number> };

/** A place in the value being walked; paths are built only for what is found. */
interface Place {
  value: unknown;
  key?: string | number;
  parent?: Place;
}

function pathOf(place: Place): Array<string | number> {
  const path: Array<string | number> = [];
  for (let p: Place | undefined = place; p?.key !== undefined; p = p.parent) path.push(p.key);
  return path.reverse();
}

/**
 * Every string inside a parsed JSON value (or a query object) that cannot be stored, with its path.
 * Iterative, so a deeply nested body cannot overflow the stack; object keys are checked too.
 */
export function findUnstorableText(value: unknown): Found[] {
  const found: Found[] = [];
  const pending: Place[] = [{ value }];
  while (pending.length > 0) {
    const place = pending.pop()!;
    const v = place.value;
    if (typeof v === 'string') {
      const problem = unstorableText(v);
      if (problem) found.push({ ...problem, path: pathOf(place) });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) pending.push({ value: v[i], key: i, parent: place });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        const keyProblem = unstorableText(key);
        if (keyProblem) found.push({ ...keyProblem, path: [...pathOf(place), key] });
        else pending.push({ value: child, key, parent: place });
      }
    }
  }
  return found;
}
