-- One row per event of an incident still in its console, with the columns the marts read;
-- the rest stay in the loaded table. An event is current only while its incident is.
with current_events as (
    {{ current_rows_of_current_parents(
        source('canary', 'incident_events'), source('canary', 'incidents'), 'incident_id'
    ) }}
)

select
    console,
    incident_id,
    cast(position as bigint) as position,
    cast(incident_updated_id as bigint) as incident_updated_id,
    {{ utc_timestamp('timestamp') }} as event_at,
    flock_id,
    node_id,
    logtype,
    logtype_name,
    logtype_category,
    nullif(src_host, '') as src_host,
    cast(src_port as bigint) as src_port,
    nullif(dst_host, '') as dst_host,
    cast(dst_port as bigint) as dst_port,
    nullif(username, '') as username,
    nullif(password, '') as password,
    nullif(domain, '') as domain,
    nullif(hostname, '') as hostname,
    nullif(command, '') as command,
    nullif(http_method, '') as http_method,
    nullif(http_path, '') as http_path,
    nullif(user_agent, '') as user_agent,
    {{ json_or_null('extra') }} as extra
from current_events
