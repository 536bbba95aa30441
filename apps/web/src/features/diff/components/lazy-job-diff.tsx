import { lazy, Suspense, type ComponentProps } from 'react';
import { Loading } from '../../../components/loading';

// react-diff-view and its stylesheet are a chunk of their own, loaded when a job with a commit is
// shown: the projects page and the project page's first paint do not pay for them.
const Diff = lazy(() => import('./job-diff').then((m) => ({ default: m.JobDiff })));

export function JobDiff(props: ComponentProps<typeof Diff>) {
  return (
    <Suspense fallback={<Loading>Loading the diff viewer…</Loading>}>
      <Diff {...props} />
    </Suspense>
  );
}
