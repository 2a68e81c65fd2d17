-- A live bird has been offline for no time; a bird that is down, since it was last seen.
select console, bird_id, live, last_seen_at, seconds_offline
from {{ ref('bird_health') }}
where (live and seconds_offline <> 0)
    or (not live and last_seen_at is not null and seconds_offline is null)
    or seconds_offline < 0
