/** English texts of the box edition (checkword recovery, B1–B2); merged into en.ts. */
export const enBox = {} as const;
