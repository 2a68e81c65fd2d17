-- Every token incident whose token is known is counted under that token, and a token that
-- fired is not "never triggered".
with token_incidents as (
    select console, canarytoken, count(*) as incidents, sum(events_count) as events
    from {{ ref('fct_incidents') }}
    where canarytoken is not null
    group by console, canarytoken
)

select t.console, t.canarytoken, t.incidents, t.times_triggered, i.incidents as expected
from {{ ref('token_inventory') }} as t
left join token_incidents as i
    on i.console = t.console and i.canarytoken = t.canarytoken
where t.incidents <> coalesce(i.incidents, 0)
    or t.times_triggered <> coalesce(i.events, 0)
    or (t.never_triggered and t.incidents > 0)
    or (t.incidents > 0 and t.last_triggered_at is null)
