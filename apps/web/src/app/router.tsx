import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect } from 'react';
import { Route, Switch } from 'wouter';
import { filesQueryOptions } from '../features/files/api/get-files';
import { projectQueryOptions } from '../features/project/api/get-project';
import { AuthGate } from '../features/session/components/auth-gate';
import { Layout } from './layout';
import { NotFoundRoute } from './routes/not-found';
import { ProjectsRoute } from './routes/projects';

const ProjectRoute = lazy(() => import('./routes/project'));

const loading = <p className="muted">Loading…</p>;

/**
 * The project page's data asked for while its code is still loading, not after: a large
 * workspace's listing is the slowest answer the page waits for (pnpm bench B7).
 */
function ProjectPage({ projectId }: { projectId: string }) {
  const queryClient = useQueryClient();
  useEffect(() => {
    void queryClient.prefetchQuery(projectQueryOptions(projectId));
    void queryClient.prefetchQuery(filesQueryOptions(projectId, false));
  }, [queryClient, projectId]);
  return (
    <Suspense fallback={loading}>
      <ProjectRoute projectId={projectId} />
    </Suspense>
  );
}

/** Every view's address (wouter: a router of ~2 KB, where react-router would be ~30 KB gzipped). */
export function AppRoutes() {
  return (
    <Layout>
      <AuthGate>
        <Suspense fallback={loading}>
          <Switch>
            <Route path="/">
              <ProjectsRoute />
            </Route>
            <Route path="/projects/:projectId">{(params) => <ProjectPage projectId={params.projectId} />}</Route>
            <Route>
              <NotFoundRoute />
            </Route>
          </Switch>
        </Suspense>
      </AuthGate>
    </Layout>
  );
}
