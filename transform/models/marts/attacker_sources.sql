-- One row per console and source address that set off an incident. Operational incidents (a
-- bird went offline, came back...) are the console's own and name no attacker.
with incidents as (
    select * from {{ ref('fct_incidents') }} where src_host is not null and not is_operational
),

credentials as (
    select
        console,
        src_host,
        count(distinct coalesce(username, '') || chr(31) || coalesce(password, ''))
            as distinct_credentials,
        count(distinct username) as distinct_usernames
    from {{ ref('fct_incident_events') }}
    where not is_operational
        and src_host is not null
        and (username is not null or password is not null)
    group by console, src_host
)

select
    i.console,
    i.src_host,
    max(i.src_host_reverse) as src_host_reverse,
    min(i.first_event_at) as first_seen_at,
    max(i.last_event_at) as last_seen_at,
    count(*) as incidents,
    sum(i.events_count) as events,
    count(distinct case when i.node_kind = 'bird' then i.node_id end) as birds_touched,
    count(distinct case when i.node_kind = 'token' then i.node_id end) as tokens_triggered,
    count(distinct case when i.node_kind = 'bird' then i.logtype_category end) as services_touched,
    string_agg(distinct i.logtype_category, ', ' order by i.logtype_category) as categories,
    coalesce(max(c.distinct_credentials), 0) as distinct_credentials,
    coalesce(max(c.distinct_usernames), 0) as distinct_usernames,
    sum(case when i.acknowledged then 0 else 1 end) as unacknowledged_incidents
from incidents as i
left join credentials as c
    on c.console = i.console and c.src_host = i.src_host
group by i.console, i.src_host
