-- Incidents per UTC day, console, flock and logtype category.
select
    console,
    cast(date_trunc('day', created_at) as date) as incident_date,
    flock_id,
    max(flock_name) as flock_name,
    logtype_category,
    count(*) as incidents,
    sum(events_count) as events,
    sum(case when acknowledged then 1 else 0 end) as acknowledged,
    sum(case when acknowledged then 0 else 1 end) as unacknowledged,
    count(distinct src_host) as distinct_sources
from {{ ref('fct_incidents') }}
group by console, cast(date_trunc('day', created_at) as date), flock_id, logtype_category
