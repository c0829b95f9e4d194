-- case: csv_typed_by_partition
-- call: source_views
-- source: raw.events
-- format: csv
-- pattern: /data/events/*.csv
-- columns: id BIGINT, day DATE, amount BIGINT
-- read_by_partition: true
CREATE OR REPLACE VIEW "raw"."events" AS SELECT * FROM read_csv(coalesce(getvariable('orchestrator_files_raw_events'), ['/data/events/*.csv']), union_by_name = true, types = {'id': 'BIGINT', 'day': 'DATE', 'amount': 'BIGINT'});
CREATE OR REPLACE VIEW "raw"."events" AS SELECT * FROM read_csv(coalesce(getvariable('orchestrator_files_raw_events'), ['/data/events/*.csv']), union_by_name = true);

-- case: csv_with_options
-- call: source_views
-- source: raw.events
-- pattern: /data/events/*.csv
-- options: delim=;, header=true, skip=1
CREATE OR REPLACE VIEW "raw"."events" AS SELECT * FROM read_csv('/data/events/*.csv', delim = ';', header = 'true', skip = 1, union_by_name = true);
CREATE OR REPLACE VIEW "raw"."events" AS SELECT * FROM read_csv('/data/events/*.csv', delim = ';', header = 'true', skip = 1, union_by_name = true);

-- case: parquet
-- call: source_views
-- source: raw.orders
-- format: parquet
-- pattern: /data/orders/*.parquet
CREATE OR REPLACE VIEW "raw"."orders" AS SELECT * FROM read_parquet('/data/orders/*.parquet');
CREATE OR REPLACE VIEW "raw"."orders" AS SELECT * FROM read_parquet('/data/orders/*.parquet');

-- case: json_by_partition
-- call: source_views
-- source: raw.clicks
-- format: json
-- pattern: /data/clicks/{date}.json
-- read_by_partition: true
CREATE OR REPLACE VIEW "raw"."clicks" AS SELECT * FROM read_json(coalesce(getvariable('orchestrator_files_raw_clicks'), ['/data/clicks/{date}.json']), union_by_name = true);
CREATE OR REPLACE VIEW "raw"."clicks" AS SELECT * FROM read_json(coalesce(getvariable('orchestrator_files_raw_clicks'), ['/data/clicks/{date}.json']), union_by_name = true);

-- case: set_files
-- call: set_files
-- files: /data/events/2024-01-01.csv, /data/events/it's.csv
SET VARIABLE orchestrator_files_raw_events = ['/data/events/2024-01-01.csv', '/data/events/it''s.csv']::VARCHAR[];

-- case: reset_files
-- call: set_files
RESET VARIABLE orchestrator_files_raw_events;
