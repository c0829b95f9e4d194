-- case: overwrite_first_window
-- call: build
-- kind: incremental
-- partition_by: day
-- window: 2024-01-01
-- query: SELECT * FROM main.events WHERE day >= DATE '2024-01-01' AND day < DATE '2024-01-02'
CREATE TABLE "analytics"."orders" AS SELECT * FROM (
SELECT * FROM main.events WHERE day >= DATE '2024-01-01' AND day < DATE '2024-01-02'
) WHERE CASE WHEN "day" >= DATE '2024-01-01' AND "day" < DATE '2024-01-02' THEN true ELSE error('orchestrator: a row outside the partition window') END;
/* guard */
SELECT count(*) FROM (
SELECT * FROM main.events WHERE day >= DATE '2024-01-01' AND day < DATE '2024-01-02'
) WHERE NOT coalesce("day" >= DATE '2024-01-01' AND "day" < DATE '2024-01-02', false);

-- case: overwrite_window
-- call: build
-- kind: incremental
-- partition_by: day
-- window: 2024-01-02
-- existing: table
-- query: SELECT * FROM main.events WHERE day >= DATE '2024-01-02' AND day < DATE '2024-01-03'
DELETE FROM "analytics"."orders" WHERE "day" >= DATE '2024-01-02' AND "day" < DATE '2024-01-03';
INSERT INTO "analytics"."orders" BY NAME SELECT * FROM (
SELECT * FROM main.events WHERE day >= DATE '2024-01-02' AND day < DATE '2024-01-03'
) WHERE CASE WHEN "day" >= DATE '2024-01-02' AND "day" < DATE '2024-01-03' THEN true ELSE error('orchestrator: a row outside the partition window') END;
/* guard */
SELECT count(*) FROM (
SELECT * FROM main.events WHERE day >= DATE '2024-01-02' AND day < DATE '2024-01-03'
) WHERE NOT coalesce("day" >= DATE '2024-01-02' AND "day" < DATE '2024-01-03', false);

-- case: overwrite_hour_window
-- call: build
-- kind: incremental
-- partition_by: at
-- grain: hour
-- window: 2024-01-02T05:30
-- existing: table
-- query: SELECT * FROM raw.clicks
DELETE FROM "analytics"."orders" WHERE "at" >= TIMESTAMP '2024-01-02 05:00:00' AND "at" < TIMESTAMP '2024-01-02 06:00:00';
INSERT INTO "analytics"."orders" BY NAME SELECT * FROM (
SELECT * FROM raw.clicks
) WHERE CASE WHEN "at" >= TIMESTAMP '2024-01-02 05:00:00' AND "at" < TIMESTAMP '2024-01-02 06:00:00' THEN true ELSE error('orchestrator: a row outside the partition window') END;
/* guard */
SELECT count(*) FROM (
SELECT * FROM raw.clicks
) WHERE NOT coalesce("at" >= TIMESTAMP '2024-01-02 05:00:00' AND "at" < TIMESTAMP '2024-01-02 06:00:00', false);

-- case: merge_first_window
-- call: build
-- kind: incremental
-- partition_by: day
-- unique_key: id
-- window: 2024-01-01
-- query: SELECT * FROM main.events WHERE day = DATE '2024-01-01'
CREATE OR REPLACE TEMP TABLE "__orchestrator_stage" AS SELECT * FROM (
SELECT * FROM main.events WHERE day = DATE '2024-01-01'
);
/* audit */
SELECT count(*) FILTER (WHERE NOT ("day" >= DATE '2024-01-01' AND "day" < DATE '2024-01-02') OR "day" IS NULL), count(*) FILTER (WHERE "id" IS NULL), count(*) - count(DISTINCT "id") FROM "__orchestrator_stage";
CREATE TABLE "analytics"."orders" AS SELECT * FROM "__orchestrator_stage";
DROP TABLE "__orchestrator_stage";

-- case: merge_window
-- call: build
-- kind: incremental
-- partition_by: day
-- unique_key: id
-- window: 2024-01-01
-- existing: table
-- query: SELECT * FROM main.events WHERE day = DATE '2024-01-01'
CREATE OR REPLACE TEMP TABLE "__orchestrator_stage" AS SELECT * FROM (
SELECT * FROM main.events WHERE day = DATE '2024-01-01'
);
/* audit */
SELECT count(*) FILTER (WHERE NOT ("day" >= DATE '2024-01-01' AND "day" < DATE '2024-01-02') OR "day" IS NULL), count(*) FILTER (WHERE "id" IS NULL), count(*) - count(DISTINCT "id") FROM "__orchestrator_stage";
MERGE INTO "analytics"."orders" AS t USING "__orchestrator_stage" AS s ON t."id" = s."id" WHEN MATCHED THEN UPDATE BY NAME WHEN NOT MATCHED THEN INSERT BY NAME;
DROP TABLE "__orchestrator_stage";

-- case: merge_compound_key
-- call: build
-- kind: incremental
-- partition_by: day
-- unique_key: id, day
-- window: 2024-01-01
-- existing: table
-- query: SELECT * FROM main.events
CREATE OR REPLACE TEMP TABLE "__orchestrator_stage" AS SELECT * FROM (
SELECT * FROM main.events
);
/* audit */
SELECT count(*) FILTER (WHERE NOT ("day" >= DATE '2024-01-01' AND "day" < DATE '2024-01-02') OR "day" IS NULL), count(*) FILTER (WHERE "id" IS NULL OR "day" IS NULL), count(*) - count(DISTINCT ("id", "day")) FROM "__orchestrator_stage";
MERGE INTO "analytics"."orders" AS t USING "__orchestrator_stage" AS s ON t."id" = s."id" AND t."day" = s."day" WHEN MATCHED THEN UPDATE BY NAME WHEN NOT MATCHED THEN INSERT BY NAME;
DROP TABLE "__orchestrator_stage";

-- case: drop_shadow
-- call: drop_shadow
-- kind: incremental
-- partition_by: day
DROP TABLE IF EXISTS "analytics"."orders__refresh";

-- case: full_refresh_into_shadow
-- call: build
-- kind: incremental
-- partition_by: day
-- window: 2024-01-01
-- existing: table
-- into_shadow: true
-- query: SELECT * FROM main.events WHERE day >= DATE '2024-01-01' AND day < DATE '2024-01-02'
CREATE TABLE "analytics"."orders__refresh" AS SELECT * FROM (
SELECT * FROM main.events WHERE day >= DATE '2024-01-01' AND day < DATE '2024-01-02'
) WHERE CASE WHEN "day" >= DATE '2024-01-01' AND "day" < DATE '2024-01-02' THEN true ELSE error('orchestrator: a row outside the partition window') END;
/* guard */
SELECT count(*) FROM (
SELECT * FROM main.events WHERE day >= DATE '2024-01-01' AND day < DATE '2024-01-02'
) WHERE NOT coalesce("day" >= DATE '2024-01-01' AND "day" < DATE '2024-01-02', false);

-- case: full_refresh_next_window_into_shadow
-- call: build
-- kind: incremental
-- partition_by: day
-- window: 2024-01-02
-- existing: table
-- into_shadow: true
-- shadow_exists: true
-- query: SELECT * FROM main.events WHERE day >= DATE '2024-01-02' AND day < DATE '2024-01-03'
DELETE FROM "analytics"."orders__refresh" WHERE "day" >= DATE '2024-01-02' AND "day" < DATE '2024-01-03';
INSERT INTO "analytics"."orders__refresh" BY NAME SELECT * FROM (
SELECT * FROM main.events WHERE day >= DATE '2024-01-02' AND day < DATE '2024-01-03'
) WHERE CASE WHEN "day" >= DATE '2024-01-02' AND "day" < DATE '2024-01-03' THEN true ELSE error('orchestrator: a row outside the partition window') END;
/* guard */
SELECT count(*) FROM (
SELECT * FROM main.events WHERE day >= DATE '2024-01-02' AND day < DATE '2024-01-03'
) WHERE NOT coalesce("day" >= DATE '2024-01-02' AND "day" < DATE '2024-01-03', false);

-- case: full_refresh_merge_into_shadow
-- call: build
-- kind: incremental
-- partition_by: day
-- unique_key: id
-- window: 2024-01-01
-- existing: table
-- into_shadow: true
-- shadow_exists: true
-- query: SELECT * FROM main.events
CREATE OR REPLACE TEMP TABLE "__orchestrator_stage" AS SELECT * FROM (
SELECT * FROM main.events
);
/* audit */
SELECT count(*) FILTER (WHERE NOT ("day" >= DATE '2024-01-01' AND "day" < DATE '2024-01-02') OR "day" IS NULL), count(*) FILTER (WHERE "id" IS NULL), count(*) - count(DISTINCT "id") FROM "__orchestrator_stage";
MERGE INTO "analytics"."orders__refresh" AS t USING "__orchestrator_stage" AS s ON t."id" = s."id" WHEN MATCHED THEN UPDATE BY NAME WHEN NOT MATCHED THEN INSERT BY NAME;
DROP TABLE "__orchestrator_stage";

-- case: swap_shadow
-- call: swap
-- kind: incremental
-- existing: table
DROP TABLE IF EXISTS "analytics"."orders";
ALTER TABLE "analytics"."orders__refresh" RENAME TO "orders";

-- case: swap_shadow_first_build
-- call: swap
-- kind: incremental
ALTER TABLE "analytics"."orders__refresh" RENAME TO "orders";
