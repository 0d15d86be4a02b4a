import { describePortalApp } from './portal-app-suite.js';

// The example portal application through Chromium on SQLite (screenshots from this run); PostgreSQL: portal-app-postgres.test.ts.
describePortalApp('sqlite');
