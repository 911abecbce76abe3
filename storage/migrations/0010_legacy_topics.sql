-- Devices configured before the 2025 merger may still publish under their former district's code
-- (the gateway accepts them when their registered commune lies in that district, telemetry/validation.py).
-- Such readings keep that code here, so `citysense audit` shows which devices to reconfigure; NULL
-- for every reading published under its own area's topic (and for every row stored before).
ALTER TABLE readings ADD COLUMN topic_area integer;
