// Which preview a request's Host names, and the origin of a preview: both from PREVIEW_BASE_URL, a
// template such as http://{projectId}.preview.localhost:8000 (the label: preview-label.ts).

const LABEL = '[0-9A-Za-z-]{1,63}';

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface PreviewOrigins {
  /** The origin whose host holds this label, without a trailing slash. */
  originOf(label: string): string;
  /** The label a Host header holds, or null when it is not a preview host. */
  labelOfHost(host: string | undefined): string | null;
}

export function previewOrigins(template: string): PreviewOrigins {
  const hostTemplate = template.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  // The port is not compared: behind a proxy or with PORT=0 the Host's port is not the template's.
  const hostname = hostTemplate.replace(/:\d+$/, '');
  const pattern = new RegExp(`^${hostname.split('{projectId}').map(escapeRegExp).join(`(${LABEL})`)}(?::\\d+)?$`, 'i');
  return {
    originOf: (label) => template.replaceAll('{projectId}', label),
    labelOfHost(host) {
      if (!host) return null;
      const match = pattern.exec(host.trim());
      return match ? match[1]! : null;
    },
  };
}

/**
 * The CSP source that allows every preview origin (the web app frames them: its Preview tab):
 * `http://*.preview.localhost:*` for the default template. A CSP wildcard stands for whole
 * leading labels, so everything up to the label holding {projectId} becomes `*`; any port, as for
 * the Host (behind a proxy the port is not the template's).
 */
export function previewFrameSource(template: string): string {
  const scheme = template.startsWith('https://') ? 'https' : 'http';
  const hostTemplate = template.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const hasPort = /:\d+$/.test(hostTemplate);
  const labels = hostTemplate.replace(/:\d+$/, '').split('.');
  const rest = labels.slice(labels.findIndex((l) => l.includes('{projectId}')) + 1);
  return `${scheme}://*.${rest.join('.')}${hasPort ? ':*' : ''}`;
}
