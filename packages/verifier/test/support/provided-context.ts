// What test/support/global-setup.ts hands to every test file through vitest's provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    /** The PostgreSQL server every test file of this run shares (isolated per file by database). */
    databaseUrl: string;
  }
}

export {};
