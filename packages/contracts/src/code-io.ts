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
