// Webhooks (docs/webhooks.md): endpoints and deliveries as the API manages them, the SSRF rules
// for their URLs, and the dispatcher the runners run.
export {
  createEndpoint,
  deleteEndpoint,
  enableEndpoint,
  findEndpoint,
  listEndpoints,
  rotateSecret,
  MAX_ENDPOINTS_PER_USER,
  ROTATION_GRACE_MS,
  type CreateEndpointResult,
} from './endpoints';
export { listDeliveries, redeliver, type RedeliverResult } from './deliveries';
export {
  parseTargetUrl,
  refusedAddress,
  resolveTarget,
  systemLookup,
  TargetRefused,
  type Lookup,
  type ResolvedTarget,
  type TargetRules,
} from './target';
export { sendWebhook, type SendInput, type SendResult } from './send';
export { generateSecret, signedHeaders } from './signature';
export { buildPayload } from './payload';
export {
  createWebhooksQueue,
  deliveryJobOptions,
  retryDelayMs,
  WEBHOOKS_QUEUE_NAME,
  type WebhooksQueue,
} from './queue';
export {
  ATTEMPT_TIMEOUT_MS,
  createWebhookDispatcher,
  MAX_RESPONSE_BYTES,
  type Dispatcher,
  type DispatcherConfig,
  type DispatcherDeps,
} from './dispatcher';
