-- The attributes OCSF requires inside the objects of a Detection Finding: metadata.version
-- and metadata.product, finding_info.uid; and time is the incident's creation in milliseconds.
select f.console, f.incident_id
from {{ ref('ocsf_detection_finding') }} as f
join {{ ref('fct_incidents') }} as i
    on i.console = f.console and i.incident_id = f.incident_id
where {{ json_text('f.metadata', 'version') }} is distinct from '{{ var("ocsf_version") }}'
    or f.metadata_version <> '{{ var("ocsf_version") }}'
    or {{ json_text('f.finding_info', 'uid') }} is distinct from f.incident_id
    or {{ json_text('f.finding_info', 'title') }} is null
    or {{ json_text(json_value('f.metadata', 'product'), 'name') }} is null
    or f.time <> {{ epoch_ms('i.created_at') }}
    or f.type_uid <> f.class_uid * 100 + f.activity_id
    or f.class_uid <> f.category_uid * 1000 + 4
