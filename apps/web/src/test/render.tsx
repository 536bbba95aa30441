import { QueryClient } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { Router } from 'wouter';
import { memoryLocation } from 'wouter/memory-location';
import { AppProvider } from '../app/provider';
import { ERROR_KINDS, type ErrorStatus } from '@cwo/contracts';

/** A component with a fresh query cache (no retries, so errors show at once) at a given address. */
export function renderWithApp(ui: ReactElement, { path = '/' }: { path?: string } = {}) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const location = memoryLocation({ path, record: true });
  const result = render(
    <AppProvider queryClient={queryClient}>
      <Router hook={location.hook} searchHook={location.searchHook}>
        {ui}
      </Router>
    </AppProvider>,
  );
  return { ...result, queryClient, location };
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

/** An error answer in the API's shape (ErrorResponse, as apps/api/src/http/error-handler.ts builds it). */
export const apiError = (status: ErrorStatus, detail?: unknown, headers: Record<string, string> = {}) =>
  json(status, { ...ERROR_KINDS[status], code: status, detail, correlation_id: 'req-1' }, headers);

/** fetch answered by `answer`, with every request kept for assertions. */
export function fakeFetch(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    calls.push({ url, init });
    return Promise.resolve(answer(url, init));
  };
  return { fetch, calls };
}
