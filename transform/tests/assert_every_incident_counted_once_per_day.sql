-- daily_incidents splits fct_incidents: per console, its incidents and events add up to the same.
with daily as (
    select console, sum(incidents) as incidents, sum(events) as events
    from {{ ref('daily_incidents') }}
    group by console
),

incidents as (
    select console, count(*) as incidents, sum(events_count) as events
    from {{ ref('fct_incidents') }}
    group by console
)

select i.console, i.incidents, d.incidents as daily_incidents, i.events, d.events as daily_events
from incidents as i
left join daily as d on d.console = i.console
where d.incidents is distinct from i.incidents or d.events is distinct from i.events
