-- One row per bird: is it up, when was it last seen, how long has it been offline, what runs on
-- it, and whether its firmware is behind.
with incidents as (
    select console, node_id, count(*) as incidents, max(created_at) as last_incident_at
    from {{ ref('fct_incidents') }}
    where node_kind = 'bird'
    group by console, node_id
),

services as (
    select
        console,
        bird_id,
        count(*) as enabled_services,
        {{ dbt.listagg('service', "', '", 'order by service') }} as services
    from {{ ref('stg_bird_services') }}
    group by console, bird_id
)

select
    b.console,
    b.bird_id,
    b.bird_name,
    b.flock_id,
    f.flock_name,
    b.live,
    b.first_seen_at,
    b.last_seen_at,
    b.last_heartbeat_at,
    {{ utc_now() }} as measured_at,
    case
        when b.live then 0
        when b.last_seen_at is not null then {{ seconds_between('b.last_seen_at', utc_now()) }}
    end as seconds_offline,
    b.firmware_version,
    -- The console lists exactly the birds that can take newer firmware.
    u.bird_id is not null as firmware_behind,
    u.available_version as firmware_available,
    u.automatic_updates_enabled,
    b.personality,
    coalesce(s.enabled_services, 0) as enabled_services,
    s.services,
    b.service_count,
    b.reconnect_count,
    b.uptime_seconds,
    b.outside_bird,
    coalesce(i.incidents, 0) as incidents,
    i.last_incident_at
from {{ ref('stg_birds') }} as b
left join {{ ref('stg_flocks') }} as f
    on f.console = b.console and f.flock_id = b.flock_id
left join {{ ref('stg_bird_updates') }} as u
    on u.console = b.console and u.bird_id = b.bird_id
left join services as s
    on s.console = b.console and s.bird_id = b.bird_id
left join incidents as i
    on i.console = b.console and i.node_id = b.bird_id
