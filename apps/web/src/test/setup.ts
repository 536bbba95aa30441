import { cleanup, configure } from '@testing-library/react';
import { afterEach, vi } from 'vitest';

// findBy*/waitFor wait up to 10 s (the default 1 s is too short on a loaded CI machine: the
// component tests failed with "Unable to find role" while the rest of the suite ran beside them).
configure({ asyncUtilTimeout: 10_000 });

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});
