import type { ReactNode } from 'react';

/** A part of the page still on its way (its code or its data), announced to screen readers. */
export function Loading({ children }: { children: ReactNode }) {
  return (
    <p className="muted" role="status">
      {children}
    </p>
  );
}
