import { previewFrameSource } from './preview-origin';

describe('previewFrameSource', () => {
  it('allows every preview origin of the template, and only those', () => {
    expect(previewFrameSource('http://{projectId}.preview.localhost:8000')).toBe('http://*.preview.localhost:*');
    expect(previewFrameSource('https://{projectId}.preview.example.com')).toBe('https://*.preview.example.com');
    expect(previewFrameSource('https://p-{projectId}.example.com')).toBe('https://*.example.com');
  });
});
