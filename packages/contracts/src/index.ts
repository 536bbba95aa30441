export { z } from './zod';
export * from './enums';
export * from './outcomes';
export * from './requests';
export * from './responses';
export * from './errors';
export * from './worker-protocol';
export * from './storable-text';
export * from './egress';
