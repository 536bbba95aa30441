// Bringing code into a workspace and taking it out (docs/code-io.md).
export {
  ARCHIVE_FORMATS,
  ARCHIVE_MEDIA_TYPES,
  ExportTooLarge,
  planWorkspaceExport,
  streamWorkspaceArchive,
  type ArchiveFormat,
  type ExportLimits,
  type ExportPlan,
} from './export-archive';
