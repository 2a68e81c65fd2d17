-- One row per bird and source address that set off alerts the console keeps outside its
-- incidents (Outside Bird alerts), with how many.
with alerts as (
    {{ current_rows(source('canary', 'outside_bird_incidents')) }}
)

select
    console,
    node_id as bird_id,
    ip_address as src_host,
    flock_id,
    cast(alert_count as bigint) as alert_count,
    {{ json_or_null('incident_counts') }} as alerts_per_service,
    {{ json_or_null('extra') }} as extra
from alerts
