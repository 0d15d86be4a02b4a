/** English texts of the admin console (C7, B3); merged into en.ts. */
export const enAdmin = {} as const;
