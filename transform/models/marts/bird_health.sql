-- One row per bird: is it up, when was it last seen, how long has it been offline, what runs on it.
with incidents as (
    select console, node_id, count(*) as incidents, max(created_at) as last_incident_at
    from {{ ref('fct_incidents') }}
    where node_kind = 'bird'
    group by console, node_id
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
    b.personality,
    b.service_count,
    b.reconnect_count,
    b.uptime_seconds,
    b.outside_bird,
    coalesce(i.incidents, 0) as incidents,
    i.last_incident_at
from {{ ref('stg_birds') }} as b
left join {{ ref('stg_flocks') }} as f
    on f.console = b.console and f.flock_id = b.flock_id
left join incidents as i
    on i.console = b.console and i.node_id = b.bird_id
