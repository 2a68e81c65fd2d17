{#
  Every incident as an OCSF Detection Finding (class_uid 2004, category Findings), following
  OCSF {{ var('ocsf_version') }}: one column per top-level attribute, objects as JSON.
  Severity: Operational logtypes (a bird went offline, came back...) are Informational, port
  scans Medium, everything else High: a Canary or a Canarytoken has no legitimate use, so any
  touch is worth acting on at once. Confidence is High for the same reason.
#}
{%- set version = var('ocsf_version') -%}
with incidents as (
    select
        *,
        case
            when logtype_category = 'Operational' then 1
            when logtype_category = 'Port Scan' then 3
            else 4
        end as severity_id
    from {{ ref('fct_incidents') }}
)

select
    console,
    incident_id,
    1 as activity_id,
    'Create' as activity_name,
    2 as category_uid,
    'Findings' as category_name,
    2004 as class_uid,
    'Detection Finding' as class_name,
    200401 as type_uid,
    'Detection Finding: Create' as type_name,
    severity_id,
    case severity_id when 1 then 'Informational' when 3 then 'Medium' else 'High' end
        as severity,
    {{ epoch_ms('created_at') }} as time,
    created_at as time_dt,
    {{ epoch_ms('first_event_at') }} as start_time,
    {{ epoch_ms('last_event_at') }} as end_time,
    events_count as count,
    coalesce(description, logtype_name, 'Canary incident') as message,
    case when acknowledged then 4 else 1 end as status_id,
    case when acknowledged then 'Resolved' else 'New' end as status,
    3 as confidence_id,
    'High' as confidence,
    true as is_alert,
    '{{ version }}' as metadata_version,
    {{ json_object([
        ('version', "'" ~ version ~ "'"),
        ('uid', 'incident_id'),
        ('tenant_uid', 'console'),
        ('log_name', "'incidents'"),
        ('original_time', 'cast(created_at as varchar)'),
        ('modified_time', epoch_ms('updated_at')),
        ('product', json_object([
            ('name', "'Thinkst Canary'"),
            ('vendor_name', "'Thinkst'"),
        ])),
    ]) }} as metadata,
    {{ json_object([
        ('uid', 'incident_id'),
        ('title', "coalesce(logtype_name, description, 'Canary incident')"),
        ('desc', 'description'),
        ('types', json_array(['logtype_category'])),
        ('created_time', epoch_ms('created_at')),
        ('first_seen_time', epoch_ms('first_event_at')),
        ('last_seen_time', epoch_ms('last_event_at')),
        ('modified_time', epoch_ms('updated_at')),
        ('analytic', json_object([
            ('uid', 'logtype'),
            ('name', 'logtype_name'),
            ('category', 'logtype_category'),
            ('type_id', '1'),
            ('type', "'Rule'"),
        ])),
    ]) }} as finding_info,
    {{ json_array([json_object([
        ('uid', 'node_id'),
        ('name', "coalesce(bird_name, token_memo)"),
        ('type', "case node_kind when 'bird' then 'Canary' when 'token' then 'Canarytoken' else 'Canary node' end"),
        ('hostname', "case when node_kind = 'bird' then bird_name end"),
        ('ip', 'dst_host'),
        ('group', json_object([('uid', 'flock_id'), ('name', 'flock_name')])),
    ])]) }} as resources,
    {{ json_array([json_object([
        ('src_endpoint', json_object([
            ('ip', 'src_host'),
            ('hostname', 'src_host_reverse'),
            ('port', 'src_port'),
        ])),
        ('dst_endpoint', json_object([
            ('ip', 'dst_host'),
            ('port', 'dst_port'),
            ('name', 'bird_name'),
            ('uid', 'node_id'),
        ])),
    ])]) }} as evidences,
    case when src_host is not null then {{ json_array([json_object([
        ('name', "'evidences.src_endpoint.ip'"),
        ('type_id', '2'),
        ('type', "'IP Address'"),
        ('value', 'src_host'),
    ])]) }} end as observables,
    {{ json_object([
        ('acknowledged_at', 'cast(acknowledged_at as varchar)'),
        ('acknowledged_by', 'acknowledged_by'),
        ('source_seen_before', 'source_seen_before'),
    ]) }} as unmapped
from incidents
