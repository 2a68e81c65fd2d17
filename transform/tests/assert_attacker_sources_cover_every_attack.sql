-- Every non-operational incident with a source address is counted under exactly that source,
-- and the first one from a source is the only one not "seen before".
with expected as (
    select
        console,
        src_host,
        count(*) as incidents,
        sum(case when source_seen_before then 0 else 1 end) as first_sightings
    from {{ ref('fct_incidents') }}
    where src_host is not null and not is_operational
    group by console, src_host
)

select e.console, e.src_host, e.incidents, a.incidents as counted, e.first_sightings
from expected as e
full outer join {{ ref('attacker_sources') }} as a
    on a.console = e.console and a.src_host = e.src_host
where a.incidents is distinct from e.incidents
    or e.first_sightings <> 1
    or a.first_seen_at > a.last_seen_at
