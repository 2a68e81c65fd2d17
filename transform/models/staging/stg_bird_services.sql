-- One row per enabled service of a bird still in its console: a service is current only while
-- its bird is.
with services as (
    {{ current_rows_of_current_parents(
        source('canary', 'bird_services'), source('canary', 'birds'), 'node_id'
    ) }}
)

select
    console,
    node_id as bird_id,
    service,
    bird_name,
    flock_id,
    personality,
    ippers,
    cast(port as bigint) as port,
    nullif(banner, '') as banner,
    nullif(service_version, '') as service_version,
    {{ json_or_null('settings') }} as settings,
    {{ json_or_null('extra') }} as extra
from services
