import { lazy, Suspense, type ComponentProps } from 'react';
import { Loading } from '../../../components/loading';

// The viewer is a chunk of its own, loaded when a file is first opened (Shiki's grammars load
// later still, per language): the project page's first paint does not wait for either.
const Viewer = lazy(() => import('./file-viewer').then((m) => ({ default: m.FileViewer })));

export function FileViewer(props: ComponentProps<typeof Viewer>) {
  return (
    <Suspense fallback={<Loading>Loading the file viewer…</Loading>}>
      <Viewer {...props} />
    </Suspense>
  );
}
