-- One row per bird waiting to be commissioned into a flock.
with registrations as (
    {{ current_rows(source('canary', 'bird_registrations')) }}
)

select
    console,
    node_id as bird_id,
    name as bird_name,
    nullif(description, '') as description,
    flock_id,
    {{ utc_timestamp('pending_since') }} as pending_since,
    firmware_version,
    sensor,
    live,
    nullif({{ adapter.quote('user') }}, '') as requested_by,
    {{ json_or_null('extra') }} as extra
from registrations
