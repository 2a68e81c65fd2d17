-- One row per audit trail entry: what a console user or API key did.
with entries as (
    {{ current_rows(source('canary', 'audit_trail')) }}
)

select
    console,
    cast(id as bigint) as audit_id,
    {{ utc_timestamp('timestamp') }} as logged_at,
    action_type,
    message,
    nullif({{ adapter.quote('user') }}, '') as user_name,
    nullif(user_ip, '') as user_ip,
    nullif(user_browser_agent, '') as user_browser_agent,
    nullif(user_browser_language, '') as user_browser_language,
    flock_id,
    {{ json_or_null('additional_information') }} as additional_information,
    -- The incident an entry is about: the console names it in `additional_information`.
    {{ json_text(json_or_null('additional_information'), 'incident_key') }} as incident_id,
    {{ json_or_null('extra') }} as extra
from entries
