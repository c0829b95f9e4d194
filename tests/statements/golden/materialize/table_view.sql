-- case: table_replaces_view
-- call: build
-- kind: table
-- existing: view
-- query: SELECT * FROM main.events -- a trailing comment
DROP VIEW IF EXISTS "analytics"."orders";
CREATE OR REPLACE TABLE "analytics"."orders" AS SELECT * FROM (
SELECT * FROM main.events -- a trailing comment
);

-- case: table_over_table
-- call: build
-- kind: table
-- existing: table
-- query: SELECT * FROM main.events;
CREATE OR REPLACE TABLE "analytics"."orders" AS SELECT * FROM (
SELECT * FROM main.events
);

-- case: table_new
-- call: build
-- kind: table
-- query: SELECT 1 AS id
CREATE OR REPLACE TABLE "analytics"."orders" AS SELECT * FROM (
SELECT 1 AS id
);

-- case: view_replaces_table
-- call: build
-- kind: view
-- existing: table
-- query: SELECT * FROM main.events
DROP TABLE IF EXISTS "analytics"."orders";
CREATE OR REPLACE VIEW "analytics"."orders" AS (
SELECT * FROM main.events
);

-- case: view_over_view
-- call: build
-- kind: view
-- existing: view
-- query: SELECT 1 AS id
CREATE OR REPLACE VIEW "analytics"."orders" AS (
SELECT 1 AS id
);
