import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect } from 'react';
import { Route, Switch, useRoute } from 'wouter';
import { filesQueryOptions } from '../features/files/api/get-files';
import { projectQueryOptions } from '../features/project/api/get-project';
import { AuthGate } from '../features/session/components/auth-gate';
import { Layout } from './layout';
import { NotFoundRoute } from './routes/not-found';
import { ProjectsRoute } from './routes/projects';

const loadProjectRoute = () => import('./routes/project');
const ProjectRoute = lazy(loadProjectRoute);

const loading = <p className="muted">Loading…</p>;

/**
 * On a project's address, its page's code and data are asked for at once, beside the sign-in
 * check rather than after it and while the code loads: a large workspace's listing is the slowest
 * answer the page waits for (pnpm bench B7). Signed out, the prefetches' 401s are dropped and
 * the page asks again once it shows.
 */
function ProjectPrefetch() {
  const [onProject, params] = useRoute('/projects/:projectId');
  const projectId = onProject ? params.projectId : undefined;
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!projectId) return;
    void loadProjectRoute();
    void queryClient.prefetchQuery(projectQueryOptions(projectId));
    void queryClient.prefetchQuery(filesQueryOptions(projectId, false));
  }, [queryClient, projectId]);
  return null;
}

function ProjectPage({ projectId }: { projectId: string }) {
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
      <ProjectPrefetch />
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
