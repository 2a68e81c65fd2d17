-- One row per setting of the console or of one flock: where alerts go, and what is switched on.
with settings as (
    {{ current_rows(source('canary', 'settings')) }}
)

select
    console,
    scope,
    setting,
    flock_id,
    category,
    name as setting_name,
    enabled,
    follows_console,
    {{ json_or_null('value') }} as value,
    {{ json_or_null('extra') }} as extra
from settings
