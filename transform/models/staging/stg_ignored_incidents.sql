-- One row per incident the console set aside under an annotation (a known scanner, a mail
-- filter opening a token), with the incident's own columns the marts could read.
with ignored as (
    {{ current_rows(source('canary', 'ignored_incidents')) }}
)

select
    console,
    annotation,
    incident_key,
    annotation_nice_name as annotation_name,
    annotation_text,
    annotation_kb_link,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    logtype,
    logtype_name,
    logtype_category,
    description,
    acknowledged,
    cast(events_count as bigint) as events_count,
    flock_id,
    node_id,
    node_name,
    nullif(src_host, '') as src_host,
    nullif(dst_host, '') as dst_host,
    cast(dst_port as bigint) as dst_port,
    memo,
    {{ json_or_null('extra') }} as extra
from ignored
