-- A figure's frame: the population it counts, what happened to it, which part of the running
-- total it gives, and the extraction rule that chose its metric (for explaining a metric).
ALTER TABLE claims ADD COLUMN population  VARCHAR;
ALTER TABLE claims ADD COLUMN event       VARCHAR;
ALTER TABLE claims ADD COLUMN scope       VARCHAR DEFAULT 'total';  -- total|current|increment|window|rate
ALTER TABLE claims ADD COLUMN metric_rule VARCHAR;
