import type {
  DeliveryListQuery,
  WebhookCreate,
  WebhookDeliveryList,
  WebhookList,
  WebhookWithSecret,
} from '@cwo/contracts';
import {
  createEndpoint,
  deleteEndpoint,
  enableEndpoint,
  findEndpoint,
  listDeliveries,
  listEndpoints,
  redeliver as redeliverDelivery,
  resolveTarget,
  rotateSecret as rotate,
  systemLookup,
  TargetRefused,
} from '@cwo/webhooks';
import { conflict, notFound, validationFailed } from '../http/errors';
import { empty, json, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';

// /webhooks: a user's endpoints (docs/webhooks.md). Owner-scoped like projects: another user's
// endpoint is "not found". The runners deliver; the API only writes Postgres.

const WEBHOOK_NOT_FOUND = 'Webhook not found';

/**
 * POST /webhooks: 201 with the endpoint and its secret (the only time it is shown). The URL is
 * checked against the SSRF rules now, its name resolved (and again before every delivery): a
 * refused URL is a 422 on `url` saying why.
 */
export async function createWebhook({ deps, body, principal }: RequestContext<WebhookCreate>): Promise<Reply> {
  const { config } = deps;
  try {
    await resolveTarget(
      body.url,
      { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowPrivateHosts: config.WEBHOOK_ALLOW_PRIVATE_HOSTS },
      deps.lookup ?? systemLookup,
    );
  } catch (err) {
    if (!(err instanceof TargetRefused)) throw err;
    throw validationFailed([{ loc: ['body', 'url'], msg: err.message, type: 'url_refused' }]);
  }
  const created = await createEndpoint(deps.db, principal.userId, body);
  if (created.kind === 'limit_reached') {
    throw conflict(`At most ${created.limit} webhook endpoints per user: delete one first`);
  }
  const answer: WebhookWithSecret = { ...created.endpoint, secret: created.secret };
  return json(201, answer);
}

export async function listWebhooks({ deps, principal }: RequestContext): Promise<Reply> {
  const list: WebhookList = { items: await listEndpoints(deps.db, principal.userId) };
  return json(200, list);
}

export async function getWebhook({ deps, params, principal }: RequestContext): Promise<Reply> {
  const endpoint = await findEndpoint(deps.db, principal.userId, params.webhookId!);
  if (!endpoint) throw notFound(WEBHOOK_NOT_FOUND);
  return json(200, endpoint);
}

/** DELETE /webhooks/{id}: the endpoint, its deliveries and their attempts; nothing more is sent to it. */
export async function deleteWebhook({ deps, params, principal }: RequestContext): Promise<Reply> {
  if (!(await deleteEndpoint(deps.db, principal.userId, params.webhookId!))) throw notFound(WEBHOOK_NOT_FOUND);
  return empty(204);
}

/** POST /webhooks/{id}/rotate-secret: a new secret, shown once; the old one signs beside it for a day. */
export async function rotateWebhookSecret({ deps, params, principal }: RequestContext): Promise<Reply> {
  const rotated = await rotate(deps.db, principal.userId, params.webhookId!);
  if (!rotated) throw notFound(WEBHOOK_NOT_FOUND);
  const answer: WebhookWithSecret = { ...rotated.endpoint, secret: rotated.secret };
  return json(200, answer);
}

/** POST /webhooks/{id}/enable: an endpoint disabled for failing receives events again. */
export async function enableWebhook({ deps, params, principal }: RequestContext): Promise<Reply> {
  const endpoint = await enableEndpoint(deps.db, principal.userId, params.webhookId!);
  if (!endpoint) throw notFound(WEBHOOK_NOT_FOUND);
  return json(200, endpoint);
}

export async function listWebhookDeliveries({
  deps,
  params,
  query,
  principal,
}: RequestContext<unknown, DeliveryListQuery>): Promise<Reply> {
  const page = await listDeliveries(deps.db, principal.userId, params.webhookId!, query);
  if (!page) throw notFound(WEBHOOK_NOT_FOUND);
  const list: WebhookDeliveryList = { ...page, limit: query.limit, offset: query.offset };
  return json(200, list);
}

/** POST …/deliveries/{deliveryId}/redeliver: 202, a new delivery of the same event (same webhook-id). */
export async function redeliver({ deps, params, principal }: RequestContext): Promise<Reply> {
  const result = await redeliverDelivery(deps.db, principal.userId, params.webhookId!, params.deliveryId!);
  switch (result.kind) {
    case 'not_found':
      throw notFound(result.what === 'endpoint' ? WEBHOOK_NOT_FOUND : 'Delivery not found');
    case 'disabled':
      throw conflict(
        `The endpoint is disabled${result.reason ? ` (${result.reason})` : ''}: enable it first (POST …/enable)`,
      );
    case 'queued':
      return json(202, result.delivery);
  }
}
