-- The operational source: NYC TLC yellow-taxi trips and the taxi-zone lookup, with change capture.
-- Idempotent: every statement can run again on a database that already has the schema.
--
-- Change capture: a row trigger on `trips` appends each insert, update and delete to `trip_changes`
-- (operation, sequence, time, the row as JSON: the new row for I/U, the deleted row for D). The
-- trigger first takes a transaction-level advisory lock, so writers of `trips` commit one after the
-- other and `seq` order is commit order: once a reader sees sequence n committed, every change with a
-- smaller sequence is committed too (or was rolled back), and a watermark on `seq` never skips a
-- change that commits late. The price is that writers of `trips` serialise, which suits this demo
-- source; a busy database would use logical decoding instead.

CREATE TABLE IF NOT EXISTS taxi_zones (
    location_id  integer PRIMARY KEY,
    borough      text NOT NULL,
    zone         text NOT NULL,
    service_zone text NOT NULL
);

-- Columns and codes of the TLC yellow-taxi trip record (data dictionary, 2024), plus a surrogate key.
CREATE TABLE IF NOT EXISTS trips (
    trip_id               bigint PRIMARY KEY,
    vendor_id             smallint NOT NULL,
    tpep_pickup_datetime  timestamp NOT NULL,
    tpep_dropoff_datetime timestamp NOT NULL,
    passenger_count       smallint,
    trip_distance         numeric(9, 2) NOT NULL,
    ratecode_id           smallint,
    store_and_fwd_flag    char(1),
    pu_location_id        integer NOT NULL REFERENCES taxi_zones,
    do_location_id        integer NOT NULL REFERENCES taxi_zones,
    payment_type          smallint,
    fare_amount           numeric(9, 2) NOT NULL,
    extra                 numeric(9, 2) NOT NULL,
    mta_tax               numeric(9, 2) NOT NULL,
    tip_amount            numeric(9, 2) NOT NULL,
    tolls_amount          numeric(9, 2) NOT NULL,
    improvement_surcharge numeric(9, 2) NOT NULL,
    congestion_surcharge  numeric(9, 2) NOT NULL,
    airport_fee           numeric(9, 2) NOT NULL,
    total_amount          numeric(9, 2) NOT NULL,
    CHECK (tpep_dropoff_datetime >= tpep_pickup_datetime)
);

CREATE TABLE IF NOT EXISTS trip_changes (
    seq        bigserial PRIMARY KEY,
    op         char(1) NOT NULL CHECK (op IN ('I', 'U', 'D')),
    trip_id    bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    txid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    row_data   jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS trip_changes_trip_id ON trip_changes (trip_id, seq);

-- How far the lakehouse has merged the change log, per pipeline: advanced only after a batch is merged.
CREATE TABLE IF NOT EXISTS extract_watermark (
    pipeline   text PRIMARY KEY,
    last_seq   bigint NOT NULL DEFAULT 0,
    last_batch text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The days the activity generator has played: a retried run does not play a day twice.
CREATE TABLE IF NOT EXISTS generated_days (
    day        date PRIMARY KEY,
    operations integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION capture_trip_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- One writer at a time until commit: sequence order is commit order (see the header).
    PERFORM pg_advisory_xact_lock(hashtext('trip_changes'));
    IF TG_OP = 'DELETE' THEN
        INSERT INTO trip_changes (op, trip_id, row_data) VALUES ('D', OLD.trip_id, to_jsonb(OLD));
        RETURN OLD;
    END IF;
    INSERT INTO trip_changes (op, trip_id, row_data)
    VALUES (CASE TG_OP WHEN 'INSERT' THEN 'I' ELSE 'U' END, NEW.trip_id, to_jsonb(NEW));
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER trips_capture
AFTER INSERT OR UPDATE OR DELETE ON trips
FOR EACH ROW EXECUTE FUNCTION capture_trip_change();
