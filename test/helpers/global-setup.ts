/**
 * Vitest global setup: one real PostgreSQL server for the whole run. STRATA_TEST_PG names an
 * existing server (a superuser URL); otherwise an embedded server is started and stopped.
 */
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from './embedded-pg.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.STRATA_TEST_PG;
  if (given) {
    project.provide('pgAdminUrl', given);
    return async () => {};
  }
  const server = await startEmbeddedPostgres();
  project.provide('pgAdminUrl', server.url);
  return () => server.stop();
}
