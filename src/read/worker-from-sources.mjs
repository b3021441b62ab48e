// Starts a reader thread from the TypeScript sources (tests, or a checkout not yet built): tsx is
// registered in the thread, then the worker module is loaded. The built package uses worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
