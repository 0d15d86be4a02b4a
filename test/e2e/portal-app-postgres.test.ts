import { describePortalApp } from './portal-app-suite.js';

// The example portal application through Chromium on PostgreSQL; SQLite (and the screenshots): portal-app.test.ts.
describePortalApp('postgres');
