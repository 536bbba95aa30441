// What an import may bring in, and how it fails. The codes are the contracts' error codes
// (packages/contracts outcomes.ts) of an import that did not happen.

export interface ImportLimits {
  /** The archive as uploaded, or the repository as fetched (MAX_IMPORT_BYTES). */
  maxBytes: number;
  /** Files, links and directories the imported tree may hold (IMPORT_MAX_FILES). */
  maxFiles: number;
  /** Their total size once unpacked (IMPORT_MAX_UNPACKED_BYTES). */
  maxUnpackedBytes: number;
  /** Unpacked bytes per byte of the archive (IMPORT_MAX_RATIO): past it, a compression bomb. */
  maxRatio: number;
}

export type ImportErrorCode = 'import_refused' | 'import_too_large' | 'import_failed';

/** An import that did not happen; nothing of it is in the workspace. `message` is fit to show. */
export class ImportError extends Error {
  constructor(
    readonly code: ImportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ImportError';
  }
}
