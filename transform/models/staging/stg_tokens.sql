-- One row per Canarytoken; its secrets stay in the loaded table.
with tokens as (
    {{ current_rows(source('canary', 'tokens')) }}
)

select
    console,
    canarytoken,
    node_id,
    kind,
    memo,
    flock_id,
    enabled,
    browser_scanner_enabled,
    {{ utc_timestamp('created_at') }} as created_at,
    cast(triggered_count as bigint) as triggered_count,
    cast(unacked_alert_count as bigint) as unacked_alert_count,
    cast(updated_id as bigint) as updated_id,
    {{ json_or_null('extra') }} as extra
from tokens
