-- One row per incident that still exists in its console.
with incidents as (
    {{ current_rows(source('canary', 'incidents')) }}
)

select
    console,
    id as incident_id,
    cast(updated_id as bigint) as updated_id,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    logtype,
    logtype_name,
    logtype_category,
    description,
    summary,
    acknowledged,
    notified,
    cast(events_count as bigint) as events_count,
    flock_id,
    flock_name,
    node_id,
    node_name,
    memo,
    nullif(src_host, '') as src_host,
    nullif(src_host_reverse, '') as src_host_reverse,
    cast(src_port as bigint) as src_port,
    nullif(dst_host, '') as dst_host,
    cast(dst_port as bigint) as dst_port,
    nullif(ip_address, '') as ip_address,
    nullif(mac_address, '') as mac_address,
    {{ json_or_null('extra') }} as extra
from incidents
