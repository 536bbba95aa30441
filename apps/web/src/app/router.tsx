import { lazy, Suspense } from 'react';
import { Route, Switch } from 'wouter';
import { Layout } from './layout';
import { NotFoundRoute } from './routes/not-found';
import { ProjectsRoute } from './routes/projects';

const ProjectRoute = lazy(() => import('./routes/project'));

/** Every view's address (wouter: a router of ~2 KB, where react-router would be ~30 KB gzipped). */
export function AppRoutes() {
  return (
    <Layout>
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <Switch>
          <Route path="/">
            <ProjectsRoute />
          </Route>
          <Route path="/projects/:projectId">{(params) => <ProjectRoute projectId={params.projectId} />}</Route>
          <Route>
            <NotFoundRoute />
          </Route>
        </Switch>
      </Suspense>
    </Layout>
  );
}
