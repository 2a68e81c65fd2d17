-- One row per flock, the console's groups of birds and tokens.
with flocks as (
    {{ current_rows(source('canary', 'flocks')) }}
)

select
    console,
    flock_id,
    name as flock_name,
    note,
    cast(online_devices as bigint) as online_devices,
    cast(offline_devices as bigint) as offline_devices,
    cast(total_tokens as bigint) as total_tokens,
    cast(enabled_tokens as bigint) as enabled_tokens,
    cast(disabled_tokens as bigint) as disabled_tokens,
    cast(incident_count as bigint) as incident_count,
    {{ json_or_null('settings') }} as settings,
    {{ json_or_null('extra') }} as extra
from flocks
