-- One row per Canarytoken: what it is, whether it is armed, and whether it ever fired.
with incidents as (
    select
        console,
        node_id,
        count(*) as incidents,
        sum(events_count) as events,
        max(last_event_at) as last_triggered_at
    from {{ ref('fct_incidents') }}
    where node_kind = 'token'
    group by console, node_id
)

select
    t.console,
    t.canarytoken,
    t.node_id,
    t.kind,
    t.memo,
    t.flock_id,
    f.flock_name,
    t.enabled,
    t.created_at,
    coalesce(t.triggered_count, 0) as console_triggered_count,
    coalesce(i.incidents, 0) as incidents,
    coalesce(i.events, 0) as times_triggered,
    i.last_triggered_at,
    coalesce(i.incidents, 0) = 0 and coalesce(t.triggered_count, 0) = 0 as never_triggered
from {{ ref('stg_tokens') }} as t
left join {{ ref('stg_flocks') }} as f
    on f.console = t.console and f.flock_id = t.flock_id
left join incidents as i
    on i.console = t.console and i.node_id = t.node_id
