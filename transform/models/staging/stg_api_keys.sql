-- One row per API key still in its console, global or of one flock; its value never lands.
with api_keys as (
    {{ current_rows(source('canary', 'api_keys')) }}
)

select
    console,
    key_id,
    scope,
    flock_id,
    auth_token_type as key_type,
    -- Global keys spell their type capitalised ('Admin'), flock keys in lower case ('admin').
    coalesce(lower(auth_token_type) = 'admin', false) as is_admin,
    nullif(note, '') as note,
    {{ utc_timestamp('created_at') }} as created_at,
    nullif(created_by, '') as created_by,
    {{ utc_timestamp('last_used_at') }} as last_used_at,
    {{ json_or_null('extra') }} as extra
from api_keys
