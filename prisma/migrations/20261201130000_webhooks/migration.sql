-- Webhooks (docs/webhooks.md): endpoints, and the outbox the job and project transitions write
-- their events to, in the same statement as the change they record.

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL,
    "owner_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT[],
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "failed_deliveries" INTEGER NOT NULL DEFAULT 0,
    "disabled_at" TIMESTAMPTZ(3),
    "disabled_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_events" (
    "id" UUID NOT NULL,
    "owner_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "project_id" UUID NOT NULL,
    "job_id" UUID,
    "data" JSONB NOT NULL,
    "body" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "endpoint_id" UUID NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "enqueued_at" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_attempts" (
    "id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "status_code" INTEGER,
    "error" TEXT,
    "response" TEXT,

    CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_endpoints_owner_id_created_at_idx" ON "webhook_endpoints"("owner_id", "created_at");

-- CreateIndex
CREATE INDEX "webhook_events_created_at_idx" ON "webhook_events"("created_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpoint_id_created_at_idx" ON "webhook_deliveries"("endpoint_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "webhook_deliveries_event_id_idx" ON "webhook_deliveries"("event_id");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_attempts_delivery_id_attempt_key" ON "webhook_attempts"("delivery_id", "attempt");

-- AddForeignKey
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The outbox: deliveries the relay has not put on the webhooks queue yet (usually none).
CREATE INDEX "webhook_deliveries_outbox_idx" ON "webhook_deliveries" ("created_at") WHERE "enqueued_at" IS NULL;
-- The recovery pass: pending deliveries by when their next attempt was due.
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries" ("next_attempt_at") WHERE "status" = 'pending';

-- True when one of the owner's enabled endpoints subscribes to the event type.
CREATE FUNCTION webhook_subscribed(owner uuid, event_type text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM webhook_endpoints
     WHERE owner_id = owner AND disabled_at IS NULL AND event_type = ANY (events)
  )
$$;

-- Records an event and one pending delivery per subscribed endpoint of the owner (none when no
-- endpoint subscribes: then nothing is written). Returns the number of deliveries.
CREATE FUNCTION record_webhook_event(event_type text, owner uuid, project uuid, job uuid, data jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  event uuid;
  fanned integer;
BEGIN
  INSERT INTO webhook_events (id, owner_id, type, project_id, job_id, data)
  VALUES (gen_random_uuid(), owner, event_type, project, job, data)
  RETURNING id INTO event;
  INSERT INTO webhook_deliveries (id, event_id, endpoint_id)
  SELECT gen_random_uuid(), event, e.id FROM webhook_endpoints e
   WHERE e.owner_id = owner AND e.disabled_at IS NULL AND event_type = ANY (e.events);
  GET DIAGNOSTICS fanned = ROW_COUNT;
  RETURN fanned;
END
$$;

-- The event of a job's new state, called by the transitions with the job's row as it now is:
-- queued -> job.queued, in_progress -> job.started, completed -> job.completed, error ->
-- job.failed, cancelled -> job.cancelled. Costs two index lookups when nobody subscribes.
CREATE FUNCTION record_job_event(job jobs) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  owner uuid;
  event_type text;
BEGIN
  SELECT owner_id INTO owner FROM projects WHERE id = job.project_id;
  event_type := CASE job.status
    WHEN 'queued' THEN 'job.queued'
    WHEN 'in_progress' THEN 'job.started'
    WHEN 'completed' THEN 'job.completed'
    WHEN 'error' THEN 'job.failed'
    ELSE 'job.cancelled'
  END;
  IF owner IS NULL OR NOT webhook_subscribed(owner, event_type) THEN
    RETURN 0;
  END IF;
  RETURN record_webhook_event(event_type, owner, job.project_id, job.id, to_jsonb(job));
END
$$;
