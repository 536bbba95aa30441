import { Link } from 'wouter';

export function NotFoundRoute() {
  return (
    <section className="card">
      <h2>Page not found</h2>
      <p>
        There is nothing at this address. <Link href="/">Back to the projects</Link>.
      </p>
    </section>
  );
}
