-- One row per Canary (bird) the console knows.
with birds as (
    {{ current_rows(source('canary', 'birds')) }}
)

select
    console,
    id as bird_id,
    name as bird_name,
    description,
    flock_id,
    live,
    {{ utc_timestamp('first_seen_at') }} as first_seen_at,
    {{ utc_timestamp('last_seen_at') }} as last_seen_at,
    {{ utc_timestamp('last_heartbeat_at') }} as last_heartbeat_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    firmware_version,
    personality,
    location,
    nullif(ip_address, '') as ip_address,
    nullif(public_ip, '') as public_ip,
    nullif(mac_address, '') as mac_address,
    outside_bird,
    cast(service_count as bigint) as service_count,
    cast(reconnect_count as bigint) as reconnect_count,
    cast(uptime as bigint) as uptime_seconds,
    ignore_notifications,
    {{ json_or_null('extra') }} as extra
from birds
