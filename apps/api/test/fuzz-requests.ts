import fc from 'fast-check';

// Requests for the fuzz test, generated from the OpenAPI document (itself generated from the zod
// schemas that validate the requests): for each operation, its path parameters, query and body
// as the schema describes them, and as a hostile client would send them instead.
//
// zod-fast-check (the library that derives arbitraries from zod schemas) supports zod 3 only, and
// no maintained OpenAPI fuzzer for Node covers malformed bodies and raw paths, so the small part
// that turns the document's JSON Schemas into fast-check arbitraries is written here.

export interface FuzzRequest {
  method: string;
  /** Sent exactly as written: not normalised, not re-encoded. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
};

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

/** Ids that exist, so that generated requests reach past the 404s into the handlers. */
export interface KnownIds {
  projectId: string;
  jobId: string;
  filePaths: string[];
  /** A project for DELETE to remove, so that the others' requests keep reaching the fixture. */
  doomedProjectId: string;
}

/** Strings that have broken parsers, paths and databases before. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '%00',
  '..',
  '../../etc/passwd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%252e%252e%252f',
  '..\\..\\windows',
  'C:\\boot.ini',
  '\\\\server\\share',
  '/etc/passwd',
  '😀'.repeat(3),
  '\u202e\u0301\ufeff',
  '\ud800',
  "'; DROP TABLE jobs; --",
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  '-1',
  '1e309',
  'NaN',
  '0x10',
  ' 5 ',
  'x'.repeat(5000),
];

const anyText = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** Any JSON value: the wrong type for whatever the schema wants, most of the time. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, '', [], {}),
  anyText,
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }),
);

function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return doc.components?.schemas?.[name] ?? {};
}

/** Values the schema accepts, or nearly (at and just past its bounds). */
function valid(doc: OpenApiDocument, raw: Schema): fc.Arbitrary<unknown> {
  const schema = resolve(doc, raw);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string': {
      if (schema.format === 'uuid') return fc.uuid();
      const min = schema.minLength ?? 0;
      const max = Math.min(schema.maxLength ?? 64, 5000);
      return fc.oneof(
        fc.string({ minLength: min, maxLength: Math.min(max, 80) }),
        fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 40) }),
        fc.constant('y'.repeat(max)),
        fc.constant('y'.repeat(max + 1)),
        fc.constant(`  ${'z'.repeat(Math.max(0, min - 1))}  `),
      );
    }
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? -1000;
      const max = schema.maximum ?? 1_000_000;
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min - 1, max + 1, Number.MAX_SAFE_INTEGER));
    }
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valid(doc, schema.items ?? {}), { maxLength: 4 });
    case 'object': {
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const fields: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) fields[k] = valid(doc, v);
      return fc.record(fields, { requiredKeys: [...required].filter((k) => k in fields) });
    }
    default:
      return anyJson;
  }
}

/** The schema's values, values of the wrong type, and hostile objects (extra or missing fields). */
function jsonFor(doc: OpenApiDocument, schema: Schema): fc.Arbitrary<unknown> {
  const resolved = resolve(doc, schema);
  const fieldMutations =
    resolved.type === 'object'
      ? [
          fc.dictionary(
            fc.constantFrom(...Object.keys(resolved.properties ?? { x: {} }), '__proto__', 'constructor', ''),
            anyJson,
            { maxKeys: 4 },
          ),
        ]
      : [];
  return fc.oneof({ weight: 3, arbitrary: valid(doc, schema) }, anyJson, ...fieldMutations);
}

/** A body as bytes: JSON of the above, or not JSON at all. */
function bodyFor(doc: OpenApiDocument, schema: Schema): fc.Arbitrary<{ bytes: Buffer; contentType?: string }> {
  const contentTypes = fc.constantFrom<string | undefined>(
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    undefined,
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/json; charset=latin1',
    'application/merge-patch+json',
    'garbage/;;;',
  );
  const json = jsonFor(doc, schema).map((v) => Buffer.from(JSON.stringify(v) ?? 'null'));
  const malformed = fc
    .oneof(
      fc.constantFrom(
        '{',
        '{"instruction":',
        '[1,2',
        '{"a":1}}',
        'nul',
        '\u0000',
        '{"instruction":"\u0000"}',
        "{'a':1}",
      ),
      anyText,
    )
    .map((s) => Buffer.from(s));
  const binary = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
  const huge = fc.constant(Buffer.from(JSON.stringify({ instruction: 'h'.repeat(1024 * 1024 + 10) })));
  const bytes = fc.oneof(
    { weight: 6, arbitrary: json },
    { weight: 2, arbitrary: malformed },
    { weight: 1, arbitrary: binary },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 1, arbitrary: huge },
  );
  return fc.record({ bytes, contentType: contentTypes }, { requiredKeys: ['bytes'] });
}

/**
 * The string as a path may carry it raw: printable ASCII stays as it is (dots, slashes, percent
 * signs and backslashes included, so that traversal reaches the server unnormalised), every
 * other byte is percent-encoded; `?` and `#` too, so that they stay in the path.
 */
function rawPath(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out +=
      byte > 0x20 && byte < 0x7f && c !== '?' && c !== '#' ? c : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

/** A path segment: the known id, a random one, or something hostile (sent raw, or encoded). */
function segmentFor(name: string, known: KnownIds): fc.Arbitrary<string> {
  const own = name === 'projectId' ? known.projectId : name === 'jobId' ? known.jobId : undefined;
  const hostile = anyText.map((s) => (s === '' ? 'x' : rawPath(s).replace(/\//g, '%2F')));
  const raw = fc.constantFrom('%', '%zz', '%00', '%2e%2e', '..', '.', '%2F', ';', '~', '%ff%fe');
  if (name === 'path') {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...known.filePaths) },
      { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS.filter((s) => s !== '').map(rawPath)) },
      { weight: 1, arbitrary: hostile },
      { weight: 1, arbitrary: raw },
      { weight: 1, arbitrary: fc.array(hostile, { minLength: 1, maxLength: 4 }).map((a) => a.join('/')) },
    );
  }
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(own ?? 'x') },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
    { weight: 1, arbitrary: hostile },
    { weight: 1, arbitrary: raw },
  );
}

function queryFor(doc: OpenApiDocument, params: Parameter[]): fc.Arbitrary<string> {
  const names = [...params.map((p) => p.name), 'follow', 'raw', 'unexpected', 'offset', 'limit'];
  const pair = fc.tuple(
    fc.constantFrom(...names),
    fc.oneof(
      ...params.map((p) => valid(doc, p.schema).map((v) => String(v))),
      fc.constantFrom('1', 'true', '0', '', '-1', '1e3', 'NaN', '%00', '%zz', 'x'.repeat(3000), '[]', '{}'),
      anyText.map(rawPath),
    ),
  );
  return fc
    .array(pair, { maxLength: 4 })
    .map((pairs) =>
      pairs.length ? `?${pairs.map(([k, v]) => `${rawPath(k)}=${rawPath(v).replace(/&/g, '%26')}`).join('&')}` : '',
    );
}

const headerValue = fc.oneof(
  fc.constantFrom('text/event-stream', 'application/octet-stream', '*/*', 'application/json', 'image/*', ''),
  fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
);

const extraHeaders = fc.record(
  {
    accept: headerValue,
    'x-request-id': fc.oneof(fc.constant('ok-id-1'), headerValue, fc.constant('x'.repeat(300))),
    'last-event-id': fc.oneof(fc.constantFrom('0', '-5', '99999999999', 'abc', '1e9'), headerValue),
    authorization: fc.oneof(fc.constantFrom('Bearer ', 'Bearer x', 'Basic Zm9vOmJhcg==', 'Basic !!!'), headerValue),
    origin: fc.constantFrom('http://localhost:3000', 'http://evil.example', 'null'),
  },
  { requiredKeys: [] },
);

/** Every operation of the document as a request arbitrary, each also sent with the wrong method. */
export function requestsFor(doc: OpenApiDocument, known: KnownIds): fc.Arbitrary<FuzzRequest> {
  const perOperation: Array<fc.Arbitrary<FuzzRequest>> = [];
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const params = op.parameters ?? [];
      const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name);
      const queryParams = params.filter((p) => p.in === 'query');
      const bodySchema = op.requestBody ? Object.values(op.requestBody.content)[0]?.schema : undefined;
      // A DELETE (the operation's own, or another's sent with the wrong method) gets the doomed
      // project's id: it must never remove the fixture the other requests read.
      const doomed = { ...known, projectId: known.doomedProjectId };
      const segments = fc.tuple(...pathParams.map((n) => segmentFor(n, known)));
      const doomedSegments = fc.tuple(...pathParams.map((n) => segmentFor(n, doomed)));
      const methods = fc.oneof(
        { weight: 8, arbitrary: fc.constant(method.toUpperCase()) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
      );
      const body = bodySchema
        ? fc.option(bodyFor(doc, bodySchema), { freq: 8 })
        : fc.option(bodyFor(doc, {}), { freq: 1 });
      perOperation.push(
        fc
          .record({
            method: methods,
            segments,
            doomedSegments,
            query: queryFor(doc, queryParams),
            body,
            headers: extraHeaders,
          })
          .map((r) => {
            let path = template;
            const values = r.method === 'DELETE' ? r.doomedSegments : r.segments;
            pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, values[i]!)));
            const headers: Record<string, string> = { ...(r.headers as Record<string, string>) };
            if (r.body?.contentType) headers['content-type'] = r.body.contentType;
            return { method: r.method, path: `${path}${r.query}`, headers, body: r.body?.bytes };
          }),
      );
    }
  }
  // And paths no route has.
  perOperation.push(
    fc
      .array(
        anyText.map((s) => rawPath(s) || 'x'),
        { minLength: 1, maxLength: 5 },
      )
      .map((parts) => ({
        method: 'GET',
        path: `/api/v1/${parts.join('/')}`,
        headers: {},
      })),
  );
  return fc.oneof(...perOperation);
}
