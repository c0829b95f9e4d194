-- case: evolve_adds_columns
-- call: evolve
-- kind: incremental
-- old: id BIGINT, day DATE, amount BIGINT
-- new: id BIGINT, day DATE, amount BIGINT, channel VARCHAR, net DOUBLE
ALTER TABLE "analytics"."orders" ADD COLUMN "channel" VARCHAR;
ALTER TABLE "analytics"."orders" ADD COLUMN "net" DOUBLE;

-- case: evolve_adds_columns_to_shadow
-- call: evolve
-- kind: incremental
-- into_shadow: true
-- old: id BIGINT
-- new: ID BIGINT, Channel VARCHAR
ALTER TABLE "analytics"."orders__refresh" ADD COLUMN "Channel" VARCHAR;

-- case: evolve_refuses_changed_type
-- call: evolve
-- kind: incremental
-- old: id BIGINT, amount BIGINT
-- new: id BIGINT, amount DOUBLE, channel VARCHAR
/* refused: column type changed (amount BIGINT -> DOUBLE): older partitions hold the old type. Rebuild the table: orchestrator run --full-refresh analytics.orders */

-- case: evolve_nothing_changed
-- call: evolve
-- kind: incremental
-- old: id BIGINT
-- new: id BIGINT


-- case: create_schema
-- call: create_schema
-- schema: marts
CREATE SCHEMA IF NOT EXISTS "marts";

-- case: search_path
-- call: search_path
-- schema: marts
-- default_schema: main
SET search_path = '"marts","main"';

-- case: search_path_default_schema
-- call: search_path
-- schema: main
-- default_schema: main
SET search_path = '"main"';

-- case: describe_relation
-- call: describe_relation
SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position;
/* params: ['analytics', 'orders'] */
