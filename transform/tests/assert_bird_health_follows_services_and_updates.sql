-- bird_health counts every service a bird runs, and calls a bird behind exactly when the console
-- lists an update for it, to a version other than the one it runs.
with services as (
    select console, bird_id, count(*) as enabled_services
    from {{ ref('stg_bird_services') }}
    group by console, bird_id
)

select h.console, h.bird_id, h.enabled_services, s.enabled_services as expected
from {{ ref('bird_health') }} as h
left join services as s
    on s.console = h.console and s.bird_id = h.bird_id
left join {{ ref('stg_bird_updates') }} as u
    on u.console = h.console and u.bird_id = h.bird_id
where h.enabled_services <> coalesce(s.enabled_services, 0)
    or h.firmware_behind <> (u.bird_id is not null)
    or (h.firmware_behind and h.firmware_available = h.firmware_version)
