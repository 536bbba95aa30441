import { z } from './zod';

// Bringing code in and taking it out (docs/code-io.md): the archive and bundle downloads.

const flag = () =>
  z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((v) => v === '1' || v === 'true');

/** GET /projects/{id}/archive: which tree, in which format. */
export const ArchiveQuery = z
  .object({
    format: z.enum(['tar.gz', 'zip']).default('tar.gz'),
    /** Put `.codex/` (requests, results, logs) in too; only for the live workspace. */
    include_codex: flag(),
    /** The tree as this job left it (its commit in the history) instead of the workspace now. */
    job: z.uuid().optional(),
  })
  .superRefine((q, ctx) => {
    if (q.job && q.include_codex)
      ctx.addIssue({
        code: 'custom',
        path: ['include_codex'],
        message: 'include_codex applies to the workspace only: the history of a job holds no .codex/',
      });
  })
  .openapi('ArchiveQuery');
export type ArchiveQuery = z.infer<typeof ArchiveQuery>;

/**
 * Where a project's code comes from, as POST /projects takes it in JSON (an archive is uploaded
 * as multipart/form-data or as the raw body instead). The URL's form is checked here; where it
 * points (no private addresses unless IMPORT_ALLOW_PRIVATE_HOSTS) when the project is created and
 * again by the runner.
 */
export const GitSource = z
  .object({
    url: z
      .string()
      .min(1)
      .max(2048)
      .openapi({ description: 'https://, ssh:// (or user@host:path) or git:// URL of the repository' }),
    /** A branch, a tag or a commit id; the remote's default branch when absent. */
    ref: z
      .string()
      .min(1)
      .max(255)
      .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/@+-]+$/, { message: 'ref must be a branch, tag or commit id' })
      .optional(),
    /** A credential for https (sent as HTTP basic auth); used once, never stored, logged or shown. */
    token: z.string().min(1).max(4096).optional(),
  })
  .strict()
  .openapi('GitSource');
export type GitSource = z.infer<typeof GitSource>;

export const ProjectSourceInput = z.object({ git: GitSource }).strict().openapi('ProjectSourceInput');
export type ProjectSourceInput = z.infer<typeof ProjectSourceInput>;

/** Where a project's code came from, as the API shows it (credentials never included). */
export const ProjectSource = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('git'),
      url: z.string().openapi({ description: 'The URL without any credential' }),
      ref: z.string().nullable(),
    }),
    z.object({
      kind: z.literal('archive'),
      format: z.enum(['tar.gz', 'zip']),
      bytes: z.number().int().nonnegative(),
      sha256: z.string(),
    }),
  ])
  .openapi('ProjectSource');
export type ProjectSource = z.infer<typeof ProjectSource>;
