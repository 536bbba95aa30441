import { act, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { renderWithApp } from '../../../test/render';
import { JobLogView } from './job-log';

/** EventSource as the browser's (jsdom has none): the test plays the server's events. */
class FakeEventSource extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static last: FakeEventSource | undefined;
  readyState = FakeEventSource.CONNECTING;
  constructor(readonly url: string) {
    super();
    FakeEventSource.last = this;
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  emit(type: string, data?: string) {
    if (type === 'open') this.readyState = FakeEventSource.OPEN;
    this.dispatchEvent(type === 'error' ? new Event('error') : new MessageEvent(type, { data }));
  }
}

const frame = () => act(() => new Promise<void>((resolve) => requestAnimationFrame(() => resolve())));

describe('JobLogView', () => {
  beforeEach(() => vi.stubGlobal('EventSource', FakeEventSource));
  afterEach(() => (FakeEventSource.last = undefined));

  it('follows the job log over SSE: counts lines as events bring them, says when it reconnects and ends', async () => {
    renderWithApp(<JobLogView projectId="p1" jobId="j1" />);
    const source = FakeEventSource.last!;
    expect(source.url).toBe('/api/v1/projects/p1/jobs/j1/logs?follow=1');
    expect(screen.getByRole('status').textContent).toBe('Connecting… · 0 lines');

    act(() => source.emit('open'));
    act(() => source.emit('log', 'line 1\nline 2'));
    act(() => source.emit('log', 'line 3'));
    await frame();
    expect(screen.getByRole('status').textContent).toBe('Live · 3 lines');

    // EventSource reconnects by itself (sending Last-Event-ID); the view says so meanwhile.
    source.readyState = FakeEventSource.CONNECTING;
    act(() => source.emit('error'));
    expect(screen.getByRole('status').textContent).toBe('Connection lost, reconnecting… · 3 lines');
    act(() => source.emit('open'));
    act(() => source.emit('log', 'line 4\nline 5'));
    act(() => source.emit('end', JSON.stringify({ status: 'completed' })));
    expect(screen.getByRole('status').textContent).toBe('Ended (completed) · 5 lines');
    expect(source.readyState).toBe(FakeEventSource.CLOSED);
  });

  it('says when the API refused the stream', () => {
    renderWithApp(<JobLogView projectId="p1" jobId="j1" />);
    const source = FakeEventSource.last!;
    source.readyState = FakeEventSource.CLOSED;
    act(() => source.emit('error'));
    expect(screen.getByRole('status').textContent).toBe('The log could not be streamed · 0 lines');
    expect(screen.getByText('No output yet.')).toBeTruthy();
  });
});
